"""mailfmt.dask on a real distributed.LocalCluster with two worker processes,
checked against the single-process CLI on the same corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import distributed
import pytest

from mailfmt.dask import RECORD_KEYS, lint_paths

FIXTURES = Path(__file__).parent / "lint" / "fixtures"


@pytest.fixture(scope="module")
def cluster_client():  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_same_findings_as_the_cli(cluster_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a" / "b").mkdir(parents=True)
    for i, p in enumerate(sorted(FIXTURES.glob("*.eml"))):
        if p.stem in ("H107", "M102"):
            continue
        shutil.copy(p, tmp_path / ("a/b" if i % 3 else "a") / p.name)
    records = lint_paths(str(tmp_path / "**" / "*.eml"), npartitions=7).compute()
    assert records and set(records[0]) == set(RECORD_KEYS)
    cli = subprocess.run([sys.executable, "-m", "mailfmt.cli", "lint", str(tmp_path),
                          "--format", "json", "--no-config", "--jobs", "1"],
                         capture_output=True, text=True, check=False)
    expected = [{"path": f["path"], **v} for f in json.loads(cli.stdout)["files"]
                for v in f["violations"]]

    def key(r: dict) -> tuple:  # type: ignore[type-arg]
        return (r["path"], r["offset"], r["code"])
    assert sorted(records, key=key) == sorted(expected, key=key)
    # The work really ran on both workers.
    assert len(cluster_client.scheduler_info()["workers"]) == 2


def test_unreadable_file_is_a_record_not_a_crash(cluster_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = lint_paths([str(tmp_path / "missing.eml")]).compute()
    assert [r["name"] for r in records] == ["unreadable"]
