"""Formatting: folding, RFC 2047 words, RFC 2231 parameters, transfer encodings, MIME."""

__all__: list[str] = []
