"""The warehouse keeps a copy of every file it loads, beside it, and shows it as delivered."""

import os
import shutil
import stat

import pytest

from liver_audit.errors import StageFailed
from liver_audit.load import prepare_file, write_prepared
from liver_audit.progress import Stages
from liver_audit.warehouse import connect, open_read_only
from tests.tables import episode_extract, load

ROWS = [
    {"EPIKEY": "000000000001", "codes": "J023 Y752"},
    {"EPIKEY": "000000000002", "codes": "J024"},
    {"EPIKEY": "000000000003", "codes": "J024 Y754"},
]


def extract_with_a_malformed_line(path):
    episode_extract(path, ROWS)
    lines = path.read_text().splitlines()
    lines[2] += "|extra|fields"  # data row 2
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_loaded_file_is_kept_byte_for_byte_for_its_owner_only(tmp_path):
    extract = extract_with_a_malformed_line(tmp_path / "extract.txt")
    with connect(tmp_path / "warehouse.duckdb") as con:
        load(con, extract)
        (raw_view,) = con.execute("select raw_table from input_files").fetchone()
    kept = tmp_path / "warehouse.duckdb.delivered" / f"{raw_view}.txt"
    assert kept.read_bytes() == extract.read_bytes()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700


def test_the_raw_view_shows_the_rows_that_split_every_column_as_text(tmp_path):
    extract = extract_with_a_malformed_line(tmp_path / "extract.txt")
    with connect(tmp_path / "warehouse.duckdb") as con:
        result = load(con, extract)
        rows = con.sql('select "EPIKEY", "OPERTN_4_02" from raw_episode_extract_1').fetchall()
        types = {
            column_type
            for _, column_type, *_ in con.sql("describe raw_episode_extract_1").fetchall()
        }
        staged = con.sql(
            "select count(*) from duckdb_tables() where table_name like 'stage_input_%'"
        )
        assert staged.fetchall() == [(0,)]  # the staging input goes once the file has loaded
    assert (result.rows_read, result.malformed_lines) == (3, 1)
    assert rows == [("000000000001", "Y752"), ("000000000003", "Y754")]
    assert types == {"VARCHAR"}


def test_a_warehouse_moved_with_its_folder_finds_its_kept_files(tmp_path):
    extract = extract_with_a_malformed_line(tmp_path / "extract.txt")
    (tmp_path / "before").mkdir()
    with connect(tmp_path / "before" / "warehouse.duckdb") as con:
        load(con, extract)
    (tmp_path / "after").mkdir()
    for name in ["warehouse.duckdb", "warehouse.duckdb.delivered"]:
        shutil.move(tmp_path / "before" / name, tmp_path / "after" / name)
    shutil.rmtree(tmp_path / "before")
    moved = tmp_path / "after" / "warehouse.duckdb"
    # read-only first, as `liver-audit sql` opens it: it cannot re-point the views itself
    with open_read_only(moved, external_access=False) as con:
        assert con.sql("select count(*) from raw_episode_extract_1").fetchall() == [(2,)]
    with connect(moved) as con:
        assert con.sql("select count(*) from raw_episode_extract_1").fetchall() == [(2,)]
    with open_read_only(moved, external_access=False) as con:
        temporary = con.sql(
            "select count(*) from duckdb_views() where temporary and view_name like 'raw_%'"
        )
        assert temporary.fetchall() == [(0,)]  # re-pointed for good by the writer


def test_a_warehouse_moved_without_its_folder_still_opens(tmp_path):
    extract = extract_with_a_malformed_line(tmp_path / "extract.txt")
    (tmp_path / "before").mkdir()
    with connect(tmp_path / "before" / "warehouse.duckdb") as con:
        load(con, extract)
    shutil.move(tmp_path / "before" / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    with connect(tmp_path / "warehouse.duckdb") as con:
        assert con.sql("select count(*) from episodes").fetchall() == [(2,)]
        views = con.sql("select sql from duckdb_views() where view_name like 'raw_%'").fetchall()
    assert str(tmp_path / "before" / "warehouse.duckdb.delivered") in views[0][0]  # as it was


def appended(extract):
    """The sender appends a row while the run reads."""
    with extract.open("a") as more:
        more.write(extract.read_text().splitlines()[1] + "\n")


def replaced_keeping_size_and_modified_time(extract):
    """Replaced by another version of the same size, its modified time set back (cp -p)."""
    stat_before, text = extract.stat(), extract.read_text()
    extract.write_text(text.replace("J024", "J023", 1))
    assert extract.stat().st_size == stat_before.st_size
    os.utime(extract, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))


@pytest.mark.parametrize("change", [appended, replaced_keeping_size_and_modified_time])
def test_a_file_that_changes_while_it_loads_is_not_loaded(tmp_path, change):
    """A delivery still being written when the run reads it: what was hashed, read and
    kept may be different versions of it, so nothing is written and the copy is deleted."""
    extract = episode_extract(tmp_path / "extract.txt", ROWS)
    with connect(tmp_path / "warehouse.duckdb") as con:
        prepared = prepare_file(con, extract, "episode_extract", Stages(), hash_it=True)
        change(extract)
        with pytest.raises(StageFailed, match="extract.txt: changed while it was being loaded"):
            write_prepared(con, prepared, "test-run", Stages())
        assert con.sql("select count(*) from input_files").fetchall() == [(0,)]
        assert con.sql("select count(*) from episodes").fetchall() == [(0,)]
        load(con, extract)  # as it is now, it loads
    assert not (tmp_path / "warehouse.duckdb.delivered" / "raw_episode_extract_1.txt").exists()
