"""Files and folders of patient data are private by default: owner only (0600, folders
0700), whatever the user's umask; with share_with_group, owner and group (0660/0770), for a
team whose accounts run and read the audit. Checked on the real files of a real run."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from liver_audit.config import load_settings
from liver_audit.warehouse import connect
from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.slow

OWNER_ONLY, SHARED = (0o600, 0o700), (0o660, 0o770)


def liver_audit(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "LIVER_AUDIT"))}
    return subprocess.run(
        [sys.executable, "-m", "liver_audit.cli", *args], capture_output=True, text=True,
        cwd=REPO, env=env, timeout=300,
        preexec_fn=lambda: os.umask(0o022),  # a usual umask: files world-readable
    )  # fmt: skip


def modes(*roots: Path) -> dict[str, int]:
    """Every file and folder under the roots (the roots too) -> its permission bits."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            found[str(path)] = stat.S_IMODE(path.stat().st_mode)
    return found


def expected(found: dict[str, int], file_mode: int, folder_mode: int) -> dict[str, int]:
    return {path: folder_mode if Path(path).is_dir() else file_mode for path in found}


@pytest.mark.parametrize("shared", [False, True], ids=["owner only", "shared with group"])
def test_a_run_writes_private_files_whatever_the_umask(tmp_path, shared):
    warehouse = tmp_path / "store" / "wh.duckdb"
    warehouse.parent.mkdir()
    os.umask(old := os.umask(0o022))
    try:
        # a warehouse an older version made with the umask's modes: made private as well
        with connect(warehouse):
            pass
        Path(f"{warehouse}.tmp").chmod(0o755)
    finally:
        os.umask(old)
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o644
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
        "--warehouse", str(warehouse), "--reports", str(tmp_path / "reports"),
        "--parquet", str(tmp_path / "parquet"),
        *(["--share-with-group"] if shared else []),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    file_mode, folder_mode = SHARED if shared else OWNER_ONLY
    written = [
        tmp_path / "reports",  # the run's folder, its audit files (worklist.xlsx by openpyxl)
        tmp_path / "parquet",  # the export, every partition
        Path(f"{warehouse}.delivered"),  # the kept copies
        Path(f"{warehouse}.tmp"),
    ]
    found = modes(*written)
    found |= {str(p): stat.S_IMODE(p.stat().st_mode) for p in warehouse.parent.glob("wh.duckdb*")}
    assert {Path(p).name for p in found} >= {
        "wh.duckdb", "wh.duckdb.lock", "wh.duckdb.delivered", "raw_episode_extract_1.txt",
        "assessments.csv", "worklist.xlsx", "report.html", "summary.json", "data_0.parquet",
    }  # fmt: skip
    assert found == expected(found, file_mode, folder_mode)


def test_an_older_warehouse_is_made_private_by_any_command_that_writes(tmp_path):
    """`export` writes patient data too: the warehouse and its copies are made private."""
    warehouse = tmp_path / "wh.duckdb"
    os.umask(old := os.umask(0o022))
    try:
        with connect(warehouse):
            pass
        kept = Path(f"{warehouse}.delivered")
        kept.mkdir(mode=0o755)
        (kept / "raw_episode_extract_1.txt").write_text("EPIKEY\n")
    finally:
        os.umask(old)
    result = liver_audit("export", "--warehouse", str(warehouse), "--parquet", str(tmp_path / "pq"))
    assert result.returncode == 0, result.stderr
    found = modes(kept, tmp_path / "pq") | {str(warehouse): stat.S_IMODE(warehouse.stat().st_mode)}
    assert found == expected(found, *OWNER_ONLY)


def test_share_with_group_is_a_setting_off_by_default(tmp_path):
    assert load_settings({}, None).share_with_group is False
    (tmp_path / "liver-audit.toml").write_text("share_with_group = true\n")
    settings = load_settings({}, str(tmp_path / "liver-audit.toml"))
    assert settings.share_with_group is True
    assert settings.sources["share_with_group"] == str(tmp_path / "liver-audit.toml")
    assert (
        load_settings(
            {"share_with_group": False}, str(tmp_path / "liver-audit.toml")
        ).share_with_group
        is False
    )
    shown = liver_audit("config", "--share-with-group")
    assert "share_with_group = true" in shown.stdout and "# --share-with-group" in shown.stdout
