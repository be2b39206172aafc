"""The picker between the optional C extension mailfmt._speedups and the
pure-Python twins of its functions (each twin gives the same answers; the
tests hold them to it)."""

from __future__ import annotations

import importlib
import os
from typing import TypeVar

__all__ = ["accelerated"]

F = TypeVar("F")


def accelerated(name: str, twin: F) -> tuple[F, bool]:
    """The function ``name`` of the optional C extension mailfmt._speedups
    and True, or ``twin`` (its pure-Python twin, which gives the same
    answers) and False when the extension was not built or
    MAILFMT_NO_SPEEDUPS is set."""
    if os.environ.get("MAILFMT_NO_SPEEDUPS"):
        return twin, False
    try:
        module = importlib.import_module("mailfmt._speedups")
    except ImportError:
        return twin, False
    fast: F = getattr(module, name)
    return fast, True
