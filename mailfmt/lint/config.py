"""``[tool.mailfmt]`` in the nearest pyproject.toml.

    [tool.mailfmt]
    select = ["H", "S"]        # code prefixes or rule names (default: all)
    ignore = ["S106"]
    line-length = 100          # the S106 warning limit (78..998)
    profile = "strict"         # "default", or "strict": warnings fail too
    glob = "*.eml"             # files taken from directories
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "FileConfig", "find_config"]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class FileConfig:
    path: Path | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    line_length: int | None = None
    strict: bool = False
    glob: str | None = None


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:
            raise ConfigError(f"{path}: reading [tool.mailfmt] needs Python 3.11+ or "
                              "the tomli package") from None
    try:
        with open(path, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def find_config(start: Path) -> FileConfig:
    """The [tool.mailfmt] table of the nearest pyproject.toml at or above ``start``."""
    d = start.resolve()
    if d.is_file():
        d = d.parent
    for folder in (d, *d.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            if b"[tool.mailfmt]" not in candidate.read_bytes():
                return FileConfig()
            table = _load_toml(candidate).get("tool", {}).get("mailfmt", {})
            return _parse(candidate, table)
    return FileConfig()


def _strs(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: [tool.mailfmt] {key} must be a list of strings")
    return tuple(value)


def _parse(path: Path, table: dict[str, Any]) -> FileConfig:
    known = {"select", "ignore", "line-length", "profile", "glob"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.mailfmt] key {unknown[0]!r} "
                          f"(known: {', '.join(sorted(known))})")
    line_length = table.get("line-length")
    if line_length is not None and (not isinstance(line_length, int)
                                    or not 78 <= line_length <= 998):
        raise ConfigError(f"{path}: [tool.mailfmt] line-length must be an integer 78..998")
    profile = table.get("profile", "default")
    if profile not in ("default", "strict"):
        raise ConfigError(f"{path}: [tool.mailfmt] profile must be 'default' or 'strict'")
    glob = table.get("glob")
    if glob is not None and not isinstance(glob, str):
        raise ConfigError(f"{path}: [tool.mailfmt] glob must be a string")
    return FileConfig(
        path=path,
        select=_strs(path, "select", table["select"]) if "select" in table else None,
        ignore=_strs(path, "ignore", table["ignore"]) if "ignore" in table else None,
        line_length=line_length,
        strict=profile == "strict",
        glob=glob,
    )
