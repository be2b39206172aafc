"""Charset names to Python codecs, one way for every reader."""

from __future__ import annotations

import codecs
import functools

__all__ = ["codec_for"]


@functools.lru_cache(maxsize=256)
def codec_for(name: str) -> codecs.CodecInfo | None:
    """Python's codec for the charset ``name``, or None when it has none.

    codecs.lookup raises LookupError for an unknown name, and ValueError for
    one with a NUL or a lone surrogate (which RFC 2231 %-encoding and RFC 2047
    words can carry): both mean no such charset.

    >>> codec_for("UTF-8").name, codec_for("x-unknown"), codec_for("us\\x00ascii")
    ('utf-8', None, None)
    """
    try:
        return codecs.lookup(name)
    except (LookupError, ValueError):
        return None
