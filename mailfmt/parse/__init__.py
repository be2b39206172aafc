"""Parsing: .eml bytes and header text back into models."""

__all__: list[str] = []
