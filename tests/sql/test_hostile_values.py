"""Hostile values in delivered files: column names that collide, dates no episode can have,
damaged Parquet, procedure positions past 24. Each is quarantined or refused, never loaded
wrongly or ignored in silence."""

import datetime
import re

import duckdb
import polars as pl
import pyarrow
import pyarrow.parquet
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.assess import assess
from liver_audit.errors import StageFailed, UnusableInput
from liver_audit.extracts import EXTRA_POSITIONS_TYPE
from liver_audit.warehouse import connect
from tests.examples import examples
from tests.tables import load, parse_table

EPISODE = {
    "EPIKEY": ["000000000001"], "PROCODE3": ["RXA"], "ADMIDATE": ["2025-05-01"],
    "EPISTART": ["2025-05-01"], "EPIEND": ["2025-05-04"], "SEX": ["1"], "STARTAGE": ["50"],
    "OPERTN_4_01": ["J023"],
}  # fmt: skip


# --- column names: one rule for text and Parquet -------------------------------------------


@pytest.mark.parametrize("file_format", ["text", "parquet"])
@pytest.mark.parametrize(
    "extra, message",
    [
        ("epikey", "column epikey appears twice"),
        (" EPIKEY", "column EPIKEY appears twice"),
        ("opertn_4_01", "column opertn_4_01 appears twice"),
    ],
)
def test_a_column_name_given_twice_in_any_case_is_refused(
    fresh_db, tmp_path, file_format, extra, message
):
    frame = pl.DataFrame(EPISODE).with_columns(pl.lit("x").alias(extra))
    if file_format == "parquet":
        path = tmp_path / "extract.parquet"
        frame.write_parquet(path)
    else:
        path = tmp_path / "extract.txt"
        frame.write_csv(path, separator="|")
    with pytest.raises(UnusableInput, match=re.escape(f"row 0 (header): {message}")):
        load(fresh_db, path)
    assert fresh_db.sql("select count(*) from episodes").fetchall() == [(0,)]


def test_a_parquet_column_without_a_name_is_refused_as_in_a_text_header(fresh_db, tmp_path):
    columns = {**EPISODE, "": ["x"], "DIAG_4_01": ["K760"]}
    table = pyarrow.table(list(columns.values()), names=list(columns))
    pyarrow.parquet.write_table(table, tmp_path / "extract.parquet")
    with pytest.raises(UnusableInput, match=re.escape("row 0 (header): column 9 has no name")):
        load(fresh_db, tmp_path / "extract.parquet")


# --- dates: real and plausible, or quarantined ----------------------------------------------

# The plausible dates (sql/macros.sql, README): 1900-01-01 to the end of the year after the
# run's. HES's own sentinels 1800-01-01 (null) and 1801-01-01 (invalid date submitted) load
# as null.
FIRST = datetime.date(1900, 1, 1)
LAST = datetime.date(datetime.date.today().year + 1, 12, 31)
SENTINELS = ["1800-01-01", "1801-01-01", "1800-01-01 00:00:00", "1801-01-01 00:00:00"]
MISSING = ["", "NA", "NULL", "na", "null"]
DATE_FIELDS = ["ADMIDATE", "EPISTART", "EPIEND", "OPDATE_01"]


def expected_date(text: str) -> tuple[bool, datetime.date | None]:
    """The oracle, Python's own date parsing: (loads, the date it loads as)."""
    value = text.strip(" ")
    if value in MISSING or value in SENTINELS:
        return True, None
    shape = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?: 00:00:00)?", value, flags=re.ASCII)
    try:
        day = datetime.date.fromisoformat(shape.group(1)) if shape else None
    except ValueError:
        day = None
    if day is None or not FIRST <= day <= LAST:
        return False, None
    return True, day


def extract_with_dates(path, rows: list[tuple[str, str]]):
    """One episode per (field, text): that date field as given, the others the null
    sentinel (so no check comparing two dates applies)."""
    columns = {
        "EPIKEY": [f"{n:012d}" for n in range(1, len(rows) + 1)],
        "PROCODE3": ["RXA"] * len(rows), "SEX": ["1"] * len(rows),
        "STARTAGE": ["50"] * len(rows), "OPERTN_4_01": ["J023"] * len(rows),
    }  # fmt: skip
    for field in DATE_FIELDS:
        columns[field] = [text if f == field else "1800-01-01" for f, text in rows]
    pl.DataFrame(columns).write_csv(path, separator="|")
    return path


def loaded_dates(con) -> list[tuple]:
    """(EPIKEY number, field, date) of every loaded row, and (.., field, 'quarantined')."""
    return con.sql(
        """
        select source_row, 'ADMIDATE', admission_date::varchar from episodes
        union all select source_row, 'EPISTART', episode_start_date::varchar from episodes
        union all select source_row, 'EPIEND', episode_end_date::varchar from episodes
        union all select source_row, 'OPDATE_01', procedure_date::varchar
            from procedures join episodes using (episode_id)
        union all select source_row, field, 'quarantined' from quarantine
            where reason = 'date_invalid'
        """
    ).fetchall()


DATE_CASES = """
| case                         | text                | loads as    |
| a date                       | 2025-05-01          | 2025-05-01  |
| the first plausible day      | 1900-01-01          | 1900-01-01  |
| the day before               | 1899-12-31          | quarantined |
| year 0 (1 BC to DuckDB)      | 0000-05-01          | quarantined |
| a negative year              | -024-05-01          | quarantined |
| year 9999                    | 9999-12-31          | quarantined |
| leap day                     | 2024-02-29          | 2024-02-29  |
| no leap day                  | 2025-02-29          | quarantined |
| HES null sentinel            | 1800-01-01          | null        |
| HES invalid-date sentinel    | 1801-01-01          | null        |
| a sentinel timestamp         | 1801-01-01 00:00:00 | null        |
| midnight                     | 2025-05-01 00:00:00 | 2025-05-01  |
| a year 5 digits long         | 20250-05-01         | quarantined |
"""


@pytest.mark.parametrize("field", DATE_FIELDS)
def test_dates_outside_the_plausible_range_are_quarantined(fresh_db, tmp_path, field):
    cases = parse_table(DATE_CASES)
    path = extract_with_dates(tmp_path / "extract.txt", [(field, c["text"]) for c in cases])
    result = load(fresh_db, path)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == len(cases)
    got = {row: value for row, f, value in loaded_dates(fresh_db) if f == field}
    assert {c["case"]: got.get(n) or "null" for n, c in enumerate(cases, 1)} == {
        c["case"]: c["loads as"] for c in cases
    }


def test_the_last_plausible_day_is_the_end_of_next_year(fresh_db, tmp_path):
    after = LAST + datetime.timedelta(days=1)
    rows = [("EPIEND", LAST.isoformat()), ("EPIEND", after.isoformat())]
    load(fresh_db, extract_with_dates(tmp_path / "extract.txt", rows))
    assert sorted(r[2] for r in loaded_dates(fresh_db) if r[1] == "EPIEND") == [
        LAST.isoformat(),
        "quarantined",
    ]


DATE_TEXT = st.one_of(
    st.sampled_from(SENTINELS + MISSING + ["0000-05-01", "-024-05-01", "9999-12-31"]),
    st.dates().map(datetime.date.isoformat),
    st.dates(FIRST, LAST).map(datetime.date.isoformat),
    st.tuples(st.integers(-9999, 99999), st.integers(0, 13), st.integers(0, 32)).map(
        lambda ymd: f"{ymd[0]:04d}-{ymd[1]:02d}-{ymd[2]:02d}"
    ),
    st.text(alphabet="0123456789-+ :T/.", max_size=21),
)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.tuples(st.sampled_from(DATE_FIELDS), DATE_TEXT), min_size=1, max_size=12))
def test_date_text_loads_as_python_parses_it(tmp_path, rows):
    con = connect(":memory:")
    try:
        path = extract_with_dates(tmp_path / "extract.txt", rows)
        result = load(con, path)
        assert result.rows_read == result.rows_loaded + result.rows_quarantined == len(rows)
        got = {(row, field): value for row, field, value in loaded_dates(con)}
        for n, (field, text) in enumerate(rows, 1):
            loads, day = expected_date(text)
            assert got[n, field] == ((str(day) if day else None) if loads else "quarantined"), text
    finally:
        con.close()


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(DATE_TEXT, min_size=1, max_size=12))
def test_theatre_operation_dates_load_as_python_parses_them(tmp_path, texts):
    con = connect(":memory:")
    try:
        path = tmp_path / "theatre.csv"
        pl.DataFrame(
            {
                "EPIKEY": [str(n) for n in range(1, len(texts) + 1)],
                "OPDATE": texts,
                "APPROACH": ["lap"] * len(texts),
            }  # fmt: skip
        ).write_csv(path)
        result = load(con, path, "theatre_records")
        assert result.rows_read == result.rows_loaded + result.rows_quarantined == len(texts)
        got = dict(
            con.sql(
                "select source_row, operation_date::varchar from theatre_records union all "
                "select source_row, 'quarantined' from quarantine where reason = 'date_invalid'"
            ).fetchall()
        )
        for n, text in enumerate(texts, 1):
            loads, day = expected_date(text)
            assert got[n] == ((str(day) if day else None) if loads else "quarantined"), text
    finally:
        con.close()


# Parquet dates and timestamps as the file types them; DuckDB writes the years Python's
# date cannot hold (year 0 and before).
PARQUET_DATE_CASES = """
| case                          | value                               | loads as    |
| a date                        | date '2025-05-01'                   | 2025-05-01  |
| year 0                        | make_date(0, 5, 1)                  | quarantined |
| a negative year               | make_date(-24, 5, 1)                | quarantined |
| 1850                          | date '1850-06-01'                   | quarantined |
| year 9999                     | date '9999-12-31'                   | quarantined |
| the HES null sentinel         | date '1800-01-01'                   | null        |
| a timestamp at midnight       | timestamp '2025-05-01 00:00:00'     | 2025-05-01  |
| a timestamp in year 0         | make_timestamp(0, 5, 1, 0, 0, 0)    | quarantined |
| a timestamp not at midnight   | timestamp '2025-05-01 10:30:00'     | quarantined |
"""


@pytest.mark.parametrize("field", DATE_FIELDS)
def test_parquet_dates_outside_the_plausible_range_are_quarantined(fresh_db, tmp_path, field):
    cases = parse_table(PARQUET_DATE_CASES)
    path = tmp_path / "extract.parquet"
    null = "date '1800-01-01'"
    selects = [
        f"lpad('{n}', 12, '0') as EPIKEY, 'RXA' as PROCODE3, '1' as SEX, 50 as STARTAGE, "
        "'J023' as OPERTN_4_01, "
        + ", ".join(f"{c['value'] if f == field else null} as {f}" for f in DATE_FIELDS)
        for n, c in enumerate(cases, 1)
    ]
    with duckdb.connect() as writer:
        writer.execute(f"copy ({' union all by name '.join('select ' + s for s in selects)}) "
                       f"to '{path}' (format parquet)")  # fmt: skip
    result = load(fresh_db, path)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined == len(cases)
    got = {row: value for row, f, value in loaded_dates(fresh_db) if f == field}
    assert {c["case"]: got.get(n) or "null" for n, c in enumerate(cases, 1)} == {
        c["case"]: c["loads as"] for c in cases
    }


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    days=st.lists(
        st.one_of(
            st.dates(),
            st.datetimes(),
            st.dates().map(lambda d: datetime.datetime(d.year, d.month, d.day)),
        ),
        min_size=1,
        max_size=12,
    ),
    field=st.sampled_from(DATE_FIELDS),
)
def test_parquet_dates_load_as_python_reads_them(tmp_path, days, field):
    def oracle(day):
        if isinstance(day, datetime.datetime):
            if day.time() != datetime.time(0):
                return "quarantined"
            day = day.date()
        if day in (datetime.date(1800, 1, 1), datetime.date(1801, 1, 1)):
            return None
        return str(day) if FIRST <= day <= LAST else "quarantined"

    con = connect(":memory:")
    try:
        path = tmp_path / "extract.parquet"
        n = len(days)
        frame = pl.DataFrame(
            {
                "EPIKEY": [f"{i:012d}" for i in range(1, n + 1)],
                "PROCODE3": ["RXA"] * n,
                "SEX": ["1"] * n,
                "STARTAGE": [50] * n,
                "OPERTN_4_01": ["J023"] * n,
            }  # fmt: skip
        )
        for f in DATE_FIELDS:
            frame = frame.with_columns(
                pl.Series(f, days, dtype=pl.Datetime("us"), strict=False)
                if f == field and any(isinstance(d, datetime.datetime) for d in days)
                else pl.Series(f, days if f == field else [datetime.date(1800, 1, 1)] * n)
            )
        frame.write_parquet(path)
        result = load(con, path)
        assert result.rows_read == result.rows_loaded + result.rows_quarantined == n
        got = {row: value for row, f, value in loaded_dates(con) if f == field}
        written = frame[field].to_list()
        assert [got.get(i) for i in range(1, n + 1)] == [oracle(d) for d in written]
    finally:
        con.close()


# --- damaged Parquet: refused like any unusable file ----------------------------------------


def damaged_parquet(path):
    """A real extract written by polars in three row groups, then the compressed data page
    of the middle group's EPIKEY overwritten at its start (a zstd frame's magic number: most
    other bytes decompress to other values, silently): the footer is intact, so the file
    opens and counts its rows, but its values cannot be read."""
    n = 30_000
    pl.DataFrame(
        {
            **{name: values * n for name, values in EPISODE.items()},
            "EPIKEY": [f"{i:012d}" for i in range(n)],
        }  # fmt: skip
    ).write_parquet(path, compression="zstd", row_group_size=n // 3)
    chunk = pyarrow.parquet.ParquetFile(path).metadata.row_group(1).column(0)
    data = bytearray(path.read_bytes())
    frame = data.index(b"\x28\xb5\x2f\xfd", chunk.data_page_offset)
    data[frame : frame + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))
    with duckdb.connect() as con:  # as the test needs it: the footer reads, the data does not
        assert con.sql(f"select count(*) from '{path}'").fetchall() == [(n,)]
        with pytest.raises(duckdb.Error):
            con.sql(f"select * from '{path}'").fetchall()
    return path


def test_a_damaged_parquet_file_is_refused_naming_it(fresh_db, tmp_path):
    path = damaged_parquet(tmp_path / "damaged.parquet")
    with pytest.raises(UnusableInput) as refused:
        load(fresh_db, path)
    assert re.fullmatch(
        rf"{re.escape(str(path))}: cannot read as Parquet: its data is damaged \(\w+\)",
        str(refused.value),
    )
    assert fresh_db.sql("select count(*) from episodes").fetchall() == [(0,)]
    # and the next file loads on the same connection
    good = tmp_path / "good.parquet"
    pl.DataFrame(EPISODE).write_parquet(good)
    assert load(fresh_db, good).rows_loaded == 1


def test_a_staging_failure_of_a_readable_parquet_file_is_no_refusal(
    fresh_db, tmp_path, monkeypatch
):
    # a failure that is not the file's (here a broken query) still fails the run
    import liver_audit.load

    def broken(name):
        return "select no_such_column from raw_episodes" if name == "stg_episodes" else sql(name)

    sql = liver_audit.load.sql
    monkeypatch.setattr(liver_audit.load, "sql", broken)
    pl.DataFrame(EPISODE).write_parquet(tmp_path / "extract.parquet")
    with pytest.raises(StageFailed, match="stage stage: BinderException"):
        load(fresh_db, tmp_path / "extract.parquet")


# --- procedure positions past 24: loaded and assessed like the first 24 ----------------------


def wide_extract(path, rows: list[dict], positions: int = 30, prefix: str = "OPERTN_4_"):
    """An extract with `positions` procedure columns (HES stops at 24) and their OPDATE_nn;
    a row's `codes` maps position -> code, its `dates` position -> OPDATE text."""
    columns = {name: [] for name in EPISODE if not name.startswith("OPERTN")}
    for n in range(1, positions + 1):
        columns[f"{prefix}{n:02d}"], columns[f"OPDATE_{n:02d}"] = [], []
    for row in rows:
        for name in columns:
            columns[name].append(row.get(name, EPISODE.get(name, [""])[0]))
        for n in range(1, positions + 1):
            columns[f"{prefix}{n:02d}"][-1] = row.get("codes", {}).get(n, "")
            code = row.get("codes", {}).get(n)
            columns[f"OPDATE_{n:02d}"][-1] = row.get("dates", {}).get(
                n, "2025-05-02" if code else ""
            )
    frame = pl.DataFrame(columns)
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path, separator="|")
    return path


@pytest.mark.parametrize("prefix", ["OPERTN_4_", "OPERTN_"])
@pytest.mark.parametrize("suffix", [".txt", ".parquet"])
def test_a_resection_at_position_25_is_assessed(fresh_db, tmp_path, prefix, suffix):
    row = {"EPIKEY": "000000000001", "codes": {1: "H011", 25: "J02.3", 26: "Y75.2", 30: "J024"}}
    path = wide_extract(tmp_path / f"extract{suffix}", [row], prefix=prefix)
    assert load(fresh_db, path).rows_loaded == 1
    assert fresh_db.sql(
        "select position, procedure_code, procedure_date::varchar from procedures order by 1"
    ).fetchall() == [
        (1, "H011", "2025-05-02"),
        (25, "J023", "2025-05-02"),
        (26, "Y752", "2025-05-02"),
        (30, "J024", "2025-05-02"),
    ]
    assess(fresh_db, "test-run")
    assert fresh_db.sql(
        "select position, found_codes, outcome from assessments "
        "where rule_id = 'liver_resection_approach' order by 1"
    ).fetchall() == [(25, "Y752", "compliant"), (30, None, "misplaced_approach_code")]


def test_bad_values_past_position_24_are_quarantined_naming_their_column(fresh_db, tmp_path):
    rows = [
        {"EPIKEY": "000000000001", "codes": {1: "J023", 27: "Y75"}},
        {"EPIKEY": "000000000002", "codes": {1: "J023", 25: "Y752"}, "dates": {25: "2025-02-30"}},
        {"EPIKEY": "000000000003", "codes": {1: "J023"}},
    ]
    result = load(fresh_db, wide_extract(tmp_path / "extract.txt", rows))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert fresh_db.sql(
        "select source_row, reason, field from quarantine order by 1"
    ).fetchall() == [
        (1, "procedure_code_malformed", "OPERTN_4_27"),
        (2, "date_invalid", "OPDATE_25"),
    ]


def test_a_redelivery_changing_only_position_25_replaces_the_episode(fresh_db, tmp_path):
    before = {"EPIKEY": "000000000001", "codes": {1: "H011", 25: "J023"}}
    after = {"EPIKEY": "000000000001", "codes": {1: "H011", 25: "J023", 26: "Y752"}}
    load(fresh_db, wide_extract(tmp_path / "april.txt", [before]))
    result = load(fresh_db, wide_extract(tmp_path / "may.txt", [after]))
    assert result.rows_unchanged == 0
    assert fresh_db.sql("select position from procedures order by 1").fetchall() == [
        (1,), (25,), (26,)
    ]  # fmt: skip


def test_a_file_without_positions_past_24_hashes_its_episodes_as_before(fresh_db):
    # stg_episodes hashes extra_positions too; null in such a file, it must add nothing, or
    # every episode in a warehouse would count as changed on its next delivery
    assert fresh_db.sql(
        "select hash('RXA', '2025-05-01', null::varchar) "
        f"= hash('RXA', '2025-05-01', null::varchar, null::{EXTRA_POSITIONS_TYPE})"
    ).fetchall() == [(True,)]
