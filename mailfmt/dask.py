"""Lint an archive too big for one machine: the same rules on a Dask cluster.

    pip install 'mailfmt[dask]'

    from distributed import Client
    from mailfmt.dask import lint_paths

    client = Client("tcp://scheduler.example.com:8786")    # or Client() for a local one
    bag = lint_paths("/archive/**/*.eml")                    # one record per finding
    by_rule = bag.pluck("code").frequencies().compute()

The workers read the files themselves, so the paths must be visible to every
worker (a shared or network file system, or fsspec URLs mounted the same way
everywhere). Records are plain dicts with the keys of ``RECORD_KEYS``; a file
that cannot be read gives one record with ``name == "unreadable"`` instead of
stopping the whole job.
"""

from __future__ import annotations

import glob as _glob
import os
from collections.abc import Sequence
from typing import Any

from .lint import LintConfig, lint

__all__ = ["RECORD_KEYS", "lint_paths", "records_for"]

RECORD_KEYS = ("path", "code", "name", "severity", "line", "column", "offset", "header",
               "part", "message")


def records_for(path: str, config: LintConfig | None = None) -> list[dict[str, Any]]:
    """The violation records of one file (what each worker computes)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return [{"path": path, "code": "", "name": "unreadable", "severity": "failure",
                 "line": 0, "column": 0, "offset": 0, "header": None, "part": None,
                 "message": f"cannot read {path}: {exc.strerror or exc}"}]
    report = lint(data, config, path=path)
    return [{"path": path, **v.as_dict()} for v in report.violations]


def _expand(paths_or_glob: str | Sequence[str]) -> list[str]:
    patterns = [paths_or_glob] if isinstance(paths_or_glob, (str, os.PathLike)) \
        else list(paths_or_glob)
    out: list[str] = []
    for p in patterns:
        p = os.fspath(p)
        if any(c in p for c in "*?["):
            out.extend(sorted(_glob.glob(p, recursive=True)))
        elif os.path.isdir(p):
            out.extend(sorted(_glob.glob(os.path.join(p, "**", "*.eml"), recursive=True)))
        else:
            out.append(p)
    return out


def lint_paths(paths_or_glob: str | Sequence[str], *, config: LintConfig | None = None,
               npartitions: int | None = None) -> Any:
    """A ``dask.bag.Bag`` of violation records for the files, in path order.

    ``paths_or_glob``: a glob (``**`` allowed), a directory (its ``*.eml``,
    recursively), a path, or a list of any of these. Call ``.compute()`` on
    the result, or ``.to_dataframe()`` when pandas is installed.
    """
    try:
        import dask.bag as db
    except ImportError:
        raise ImportError("mailfmt.dask needs Dask: pip install 'mailfmt[dask]'") from None
    paths = _expand(paths_or_glob)
    parts = max(1, npartitions or min(len(paths), 256))
    from_sequence: Any = db.from_sequence  # Dask ships no type hints for it
    return from_sequence(paths, npartitions=parts).map(records_for, config).flatten()
