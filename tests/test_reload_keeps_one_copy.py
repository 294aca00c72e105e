"""A file loaded again (--reload, or the same bytes under another name) keeps one copy in
<warehouse>.delivered/: its raw view reads the copy the earlier load kept."""

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from liver_audit.warehouse import connect, open_read_only, recover_interrupted_runs
from tests.tables import episode_extract, load, theatre_file

MAY = [{"EPIKEY": "000000000001", "codes": "J023 Y752"}, {"EPIKEY": "000000000002"}]
JUNE = [{"EPIKEY": "000000000002", "codes": "J024 Y754"}]


def kept_files(warehouse: Path) -> list[str]:
    return sorted(path.name for path in Path(f"{warehouse}.delivered").iterdir())


def read_by_view(con) -> dict[str, str]:
    """Each raw view -> the SHA-256 of the file it reads."""
    views = con.execute(
        "select view_name, sql from duckdb_views() "
        "where starts_with(view_name, 'raw_') and not temporary and not internal"
    ).fetchall()
    return {
        name: hashlib.sha256(
            Path(re.search(r"read_\w+\('([^']*)'", text)[1]).read_bytes()
        ).hexdigest()
        for name, text in views
    }


def test_loading_the_same_content_again_keeps_one_copy(tmp_path):
    may = episode_extract(tmp_path / "may.txt", MAY)
    again = shutil.copyfile(may, tmp_path / "may-resent.txt")  # same bytes, another name
    june = episode_extract(tmp_path / "june.txt", JUNE)
    theatre = theatre_file(
        tmp_path / "theatre.csv", [{"EPIKEY": "000000000001", "APPROACH": "lap"}]
    )
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        for path, kind in [
            (may, "episode_extract"),  # file 1
            (may, "episode_extract"),  # 2: --reload
            (again, "episode_extract"),  # 3: the same content, renamed
            (june, "episode_extract"),  # 4: new content
            (theatre, "theatre_records"),  # 5
            (theatre, "theatre_records"),  # 6: --reload
        ]:
            load(con, path, kind)
        assert recover_interrupted_runs(con) == 0  # a next run's start deletes no copy
        assert con.sql("select count(*) from raw_episode_extract_3").fetchall() == [(2,)]
    assert kept_files(warehouse) == [
        "raw_episode_extract_1.txt",
        "raw_episode_extract_4.txt",
        "raw_theatre_records_5.txt",
    ]
    with open_read_only(warehouse) as con:  # every load's raw view reads its content
        sha256 = dict(con.execute("select raw_table, sha256 from input_files").fetchall())
        assert read_by_view(con) == sha256
        assert con.sql("select count(*) from raw_theatre_records_6").fetchall() == [(1,)]


def test_a_copy_missing_since_is_kept_again(tmp_path):
    """The warehouse moved without its folder: the reload keeps its own copy."""
    may = episode_extract(tmp_path / "may.txt", MAY)
    warehouse = tmp_path / "warehouse.duckdb"
    with connect(warehouse) as con:
        load(con, may)
        Path(f"{warehouse}.delivered/raw_episode_extract_1.txt").unlink()
        load(con, may)
        assert con.sql("select count(*) from raw_episode_extract_2").fetchall() == [(2,)]
    assert kept_files(warehouse) == ["raw_episode_extract_2.txt"]


CONTENTS = {
    "may": MAY,
    "june": JUNE,
    "both": [*MAY, {"EPIKEY": "000000000003", "codes": "J023"}],
}


@settings(max_examples=8, deadline=None)
@given(st.lists(st.sampled_from(sorted(CONTENTS)), min_size=1, max_size=4))
def test_one_copy_per_content_whatever_the_order_of_loads(deliveries):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        warehouse = folder / "warehouse.duckdb"
        with connect(warehouse) as con:
            for number, name in enumerate(deliveries):
                load(con, episode_extract(folder / f"delivery-{number}.txt", CONTENTS[name]))
            sha256 = dict(con.execute("select raw_table, sha256 from input_files").fetchall())
            assert read_by_view(con) == sha256
        assert len(kept_files(warehouse)) == len(set(deliveries))
