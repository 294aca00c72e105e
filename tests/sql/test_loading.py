"""Loading episode extracts: every quarantine reason, and the HES quirks that must still load."""

import datetime
import re
from pathlib import Path

import polars as pl
import pytest

from liver_audit.errors import UnusableInput
from tests.tables import episode_extract, load, parse_table, theatre_file

GOOD = {"EPIKEY": "000000000009", "codes": "J023 Y752"}

QUARANTINE_CASES = """
| case                       | EPIKEY       | ADMIDATE   | EPISTART   | EPIEND     | SEX | STARTAGE | PROCODE3 | codes     | reason                        | field       |
| no episode id              | .            | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J023      | episode_id_missing            | EPIKEY      |
| id is NA                   | NA           | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J023      | episode_id_missing            | EPIKEY      |
| malformed code             | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J023 Y75  | procedure_code_malformed      | OPERTN_4_02 |
| code with 6 characters     | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J02311    | procedure_code_malformed      | OPERTN_4_01 |
| chapter I does not exist   | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | I123      | procedure_code_malformed      | OPERTN_4_01 |
| no such day                | 000000000001 | 2025-02-30 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J023      | date_invalid                  | ADMIDATE    |
| not ISO                    | 000000000001 | 2025-05-01 | 01/05/2025 | 2025-05-04 | 1   | 50       | RXA      | J023      | date_invalid                  | EPISTART    |
| month 13                   | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-13-04 | 1   | 50       | RXA      | J023      | date_invalid                  | EPIEND      |
| ends before it starts      | 000000000001 | 2025-05-01 | 2025-05-03 | 2025-05-02 | 1   | 50       | RXA      | J023      | episode_end_before_start      | EPIEND      |
| admitted after the start   | 000000000001 | 2025-05-02 | 2025-05-01 | 2025-05-04 | 1   | 50       | RXA      | J023      | admission_after_episode_start | ADMIDATE    |
| sex outside HES codes      | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 3   | 50       | RXA      | J023      | sex_invalid                   | SEX         |
| age 121                    | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 121      | RXA      | J023      | start_age_invalid             | STARTAGE    |
| age band 7008              | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 7008     | RXA      | J023      | start_age_invalid             | STARTAGE    |
| age not a number           | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | abc      | RXA      | J023      | start_age_invalid             | STARTAGE    |
| age not whole              | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 40.5     | RXA      | J023      | start_age_invalid             | STARTAGE    |
| no provider                | 000000000001 | 2025-05-01 | 2025-05-01 | 2025-05-04 | 1   | 50       | .        | J023      | provider_code_missing         | PROCODE3    |
"""


@pytest.mark.parametrize(
    "case", parse_table(QUARANTINE_CASES), ids=[c["case"] for c in parse_table(QUARANTINE_CASES)]
)
def test_quarantine_reason(fresh_db, tmp_path, case):
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", [case, GOOD]))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    quarantined = fresh_db.sql("select source_row, reason, field from quarantine").fetchall()
    assert quarantined == [(1, case["reason"], case["field"])]
    assert fresh_db.sql("select episode_id from episodes").fetchall() == [("000000000009",)]


def test_every_copy_of_a_duplicated_id_is_quarantined(fresh_db, tmp_path):
    rows = [{"EPIKEY": "000000000001", "codes": "J023"}, GOOD, {"EPIKEY": "000000000001"}]
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", rows))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert fresh_db.sql("select source_row, reason from quarantine order by 1").fetchall() == [
        (1, "episode_id_duplicated"),
        (3, "episode_id_duplicated"),
    ]


def test_a_row_failing_two_checks_is_counted_once(fresh_db, tmp_path):
    row = {"EPIKEY": "000000000001", "SEX": "7", "STARTAGE": "200", "codes": "J023 X"}
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", [row, GOOD]))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    reasons = fresh_db.sql("select reason from quarantine order by 1").fetchall()
    assert reasons == [("procedure_code_malformed",), ("sex_invalid",), ("start_age_invalid",)]


def test_malformed_line_is_quarantined_with_its_row_number(fresh_db, tmp_path):
    path = episode_extract(tmp_path / "extract.txt", [GOOD, {"EPIKEY": "000000000002"}, GOOD])
    lines = path.read_text().splitlines()
    lines[2] += "|extra|fields"  # data row 2
    lines[3] = lines[3].replace("000000000009", "000000000003")
    path.write_text("\n".join(lines) + "\n")
    result = load(fresh_db, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert fresh_db.sql("select source_row, reason from quarantine").fetchall() == [
        (2, "line_malformed")
    ]
    loaded = fresh_db.sql("select source_row, episode_id from episodes order by 1").fetchall()
    assert loaded == [(1, "000000000009"), (3, "000000000003")]


LOADED_CODE_CASES = """
| case                          | codes                   | procedures          |
| dotted                        | J02.3 Y75.2             | 1:J023 2:Y752       |
| lower case, padded            | ˽j023˽ y752             | 1:J023 2:Y752       |
| local 5th character           | J0231 Y7521             | 1:J023 2:Y752       |
| padded no-operation sentinel  | -˽˽˽ J024               | 2:J024              |
| not-known sentinel in a gap   | J023 & Y752             | 1:J023 3:Y752       |
| empty position                | J023 _ Y752             | 1:J023 3:Y752       |
| NA and NULL are empty         | NA J023 NULL Y752       | 2:J023 4:Y752       |
"""


@pytest.mark.parametrize(
    "case", parse_table(LOADED_CODE_CASES), ids=[c["case"] for c in parse_table(LOADED_CODE_CASES)]
)
def test_code_quirks_load(fresh_db, tmp_path, case):
    row = {"EPIKEY": "000000000001", "codes": case["codes"]}
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", [row]))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    procedures = fresh_db.sql(
        "select position || ':' || procedure_code from procedures order by position"
    ).fetchall()
    assert " ".join(p for (p,) in procedures) == case["procedures"]


def test_leading_zeros_float_text_and_date_sentinels(fresh_db, tmp_path):
    row = {
        "EPIKEY": "000000000001", "SEX": "2.0", "STARTAGE": "7003.0",
        "ADMIDATE": "1800-01-01", "EPIEND": "1801-01-01", "codes": "J023",
    }  # fmt: skip
    load(fresh_db, episode_extract(tmp_path / "extract.txt", [row]))
    episode = fresh_db.execute(
        "select episode_id, sex, start_age, admission_date, episode_end_date from episodes"
    ).fetchall()[0]
    assert episode == ("000000000001", "2", 7003, None, None)


@pytest.mark.parametrize("delimiter", ["|", ",", "\t"])
@pytest.mark.parametrize("bom_crlf", [False, True])
def test_delimiters_bom_and_line_ends(fresh_db, tmp_path, delimiter, bom_crlf):
    path = episode_extract(tmp_path / "extract.txt", [GOOD], delimiter=delimiter)
    if bom_crlf:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = load(fresh_db, path)
    assert result.rows_loaded == 1
    assert fresh_db.sql("select episode_id, count(*) from procedures group by 1").fetchall() == [
        ("000000000009", 2)
    ]


def test_parquet_and_opertn_nn_columns(fresh_db, tmp_path):
    frame = pl.DataFrame(
        {
            "EPIKEY": ["000000000001"],
            "PROCODE3": ["RXA"],
            "ADMIDATE": ["2025-05-01"],
            "EPISTART": ["2025-05-01"],
            "EPIEND": ["2025-05-02"],
            "SEX": ["1"],
            "STARTAGE": [50],
            "OPERTN_01": ["J024"],
            "OPERTN_02": ["Y754"],
            "EXTRA": ["kept"],
        }  # fmt: skip
    )
    path = tmp_path / "extract.parquet"
    frame.write_parquet(path)
    result = load(fresh_db, path)
    assert (result.file_format, result.rows_loaded) == ("parquet", 1)
    assert fresh_db.sql("select procedure_code from procedures order by position").fetchall() == [
        ("J024",),
        ("Y754",),
    ]
    # extra columns are kept, as delivered, in the file's raw table
    raw_table = fresh_db.execute("select raw_table from input_files").fetchall()[0][0]
    assert fresh_db.sql(f'select "EXTRA" from {raw_table}').fetchall() == [("kept",)]


def test_missing_required_column_is_unusable(fresh_db, tmp_path):
    path = tmp_path / "extract.txt"
    path.write_text("EPIKEY|PROCODE3|OPERTN_4_01\n1|RXA|J023\n")
    with pytest.raises(
        UnusableInput, match=r"extract.txt: row 0 \(header\): missing column\(s\) ADMIDATE"
    ):
        load(fresh_db, path)


def test_empty_file_is_unusable(fresh_db, tmp_path):
    path = tmp_path / "extract.txt"
    path.write_text("")
    with pytest.raises(UnusableInput, match="extract.txt: file is empty"):
        load(fresh_db, path)


def test_latest_delivery_of_an_episode_wins(fresh_db, tmp_path):
    load(fresh_db, episode_extract(tmp_path / "a.txt", [{"EPIKEY": "1", "codes": "J023"}]))
    load(fresh_db, episode_extract(tmp_path / "b.txt", [{"EPIKEY": "1", "codes": "J024 Y754"}]))
    assert fresh_db.execute("select count(*) from episodes").fetchall()[0] == (1,)
    codes = fresh_db.sql("select procedure_code from procedures order by position").fetchall()
    assert codes == [("J024",), ("Y754",)]


BAD_LINES = {
    "unterminated quote": b'2|RXA|"2025-05-01|2025-05-01|2025-05-04|1|50|J023\n',
    "not UTF-8": b"2|R\xe9A|2025-05-01|2025-05-01|2025-05-04|1|50|J023\n",
}


@pytest.mark.parametrize("line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_line_that_cannot_be_parsed_is_quarantined(fresh_db, tmp_path, line):
    path = tmp_path / "extract.txt"
    header = b"EPIKEY|PROCODE3|ADMIDATE|EPISTART|EPIEND|SEX|STARTAGE|OPERTN_4_01\n"
    path.write_bytes(header + b"1|RXA|2025-05-01|2025-05-01|2025-05-04|1|50|J023\n" + line)
    result = load(fresh_db, path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert fresh_db.sql("select source_row, reason from quarantine").fetchall() == [
        (2, "line_malformed")
    ]


NO_DATA_ROWS = {
    "header only": ("extract.txt", "episode_extract", b"EPIKEY|PROCODE3|ADMIDATE|EPISTART|EPIEND|SEX|STARTAGE|OPERTN_4_01\n"),
    "header and blank lines": ("extract.txt", "episode_extract", b"EPIKEY,PROCODE3,ADMIDATE,EPISTART,EPIEND,SEX,STARTAGE,OPERTN_4_01\r\n\r\n\n"),
    "theatre header only": ("theatre.csv", "theatre_records", b"EPIKEY,OPDATE,APPROACH\n"),
}  # fmt: skip


@pytest.mark.parametrize("name, kind, content", NO_DATA_ROWS.values(), ids=NO_DATA_ROWS.keys())
def test_a_file_without_data_rows_is_unusable(fresh_db, tmp_path, name, kind, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableInput, match=f"^{re.escape(str(path))}: no data rows$"):
        load(fresh_db, path, kind)
    assert fresh_db.sql("select count(*) from input_files").fetchall() == [(0,)]


def test_a_parquet_file_without_rows_is_unusable(fresh_db, tmp_path):
    columns = ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE"]
    frame = pl.DataFrame({name: [] for name in [*columns, "OPERTN_4_01"]}, schema_overrides={
        name: pl.String for name in [*columns, "OPERTN_4_01"]
    })  # fmt: skip
    frame.write_parquet(tmp_path / "extract.parquet")
    with pytest.raises(UnusableInput, match="extract.parquet: no data rows$"):
        load(fresh_db, tmp_path / "extract.parquet")


THEATRE_QUARANTINE_CASES = """
| case            | EPIKEY       | OPDATE     | reason             | field  |
| no episode id   | .            | 2025-05-02 | episode_id_missing | EPIKEY |
| no such day     | 000000000001 | 2025-02-30 | date_invalid       | OPDATE |
"""


@pytest.mark.parametrize(
    "case",
    parse_table(THEATRE_QUARANTINE_CASES),
    ids=[c["case"] for c in parse_table(THEATRE_QUARANTINE_CASES)],
)
def test_theatre_quarantine_reason(fresh_db, tmp_path, case):
    rows = [case | {"APPROACH": "lap"}, {"EPIKEY": "000000000002", "APPROACH": "open"}]
    result = load(fresh_db, theatre_file(tmp_path / "theatre.csv", rows), "theatre_records")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    quarantined = fresh_db.sql("select source_row, reason, field from quarantine").fetchall()
    assert quarantined == [(1, case["reason"], case["field"])]


def test_parquet_timestamps_at_midnight_are_dates(fresh_db, tmp_path):
    midnight = datetime.datetime(2025, 5, 1)
    frame = pl.DataFrame(
        {
            "EPIKEY": ["1", "2"],
            "PROCODE3": ["RXA", "RXA"],
            "ADMIDATE": [midnight] * 2,
            "EPISTART": [midnight] * 2,
            "EPIEND": [datetime.datetime(1801, 1, 1), midnight],
            "SEX": ["1", "2"],
            "STARTAGE": [50, 60],
            "OPERTN_4_01": ["J023", "J024"],
        }  # fmt: skip
    )
    frame.write_parquet(tmp_path / "extract.parquet")
    result = load(fresh_db, tmp_path / "extract.parquet")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)
    assert fresh_db.sql("select episode_end_date from episodes order by 1").fetchall() == [
        (datetime.date(2025, 5, 1),),
        (None,),
    ]


def test_a_trailing_delimiter_on_every_line_loads(fresh_db, tmp_path):
    path = episode_extract(tmp_path / "extract.txt", [GOOD])
    path.write_text("".join(line + "|\n" for line in path.read_text().splitlines()))
    assert load(fresh_db, path).rows_loaded == 1


@pytest.mark.parametrize(
    "header, message",
    [
        ("EPIKEY|PROCODE3|EPIKEY", "column EPIKEY appears twice"),
        ("EPIKEY||PROCODE3", "column 2 has no name"),
        ("EPIKEY", "missing column(s) PROCODE3"),
    ],
)
def test_header_problems_are_named(fresh_db, tmp_path, header, message):
    path = tmp_path / "extract.txt"
    path.write_text(header + "\n1|RXA|x\n")
    with pytest.raises(UnusableInput, match=re.escape(f"row 0 (header): {message}")):
        load(fresh_db, path)


def test_cr_only_line_ends_are_refused_saying_so(fresh_db, tmp_path):
    path = episode_extract(tmp_path / "extract.txt", [GOOD])
    path.write_text(path.read_text().replace("\n", "\r"))
    with pytest.raises(UnusableInput, match="lines end CR only"):
        load(fresh_db, path)


def test_an_unclosed_quote_that_swallows_later_lines_refuses_the_file(fresh_db, tmp_path):
    rows = [GOOD, {"EPIKEY": "000000000002", "PROCODE3": '"RXA'}]
    rows += [{"EPIKEY": f"{n:012d}"} for n in range(3, 50)]
    with pytest.raises(
        UnusableInput, match="row 2: a quote opened here is never closed on its line"
    ):
        load(fresh_db, episode_extract(tmp_path / "extract.txt", rows))
    # nothing half-loaded is left behind
    assert fresh_db.sql(
        "select count(*) from duckdb_tables() where not temporary "
        "and (table_name like 'stage_input_%' or table_name like 'raw_%')"
    ).fetchall() == [(0,)]
    assert fresh_db.sql(
        "select count(*) from duckdb_views() where view_name like 'raw_%'"
    ).fetchall() == [(0,)]


def test_lower_case_missing_values_and_tab_padding(fresh_db, tmp_path):
    row = {"EPIKEY": "000000000001", "SEX": "null", "STARTAGE": "na", "codes": "J023\t Y752"}
    load(fresh_db, episode_extract(tmp_path / "extract.txt", [row]))
    assert fresh_db.sql("select sex, start_age from episodes").fetchall() == [(None, None)]
    codes = fresh_db.sql("select procedure_code from procedures order by position").fetchall()
    assert codes == [("J023",), ("Y752",)]


def test_validation_is_full_depth_whatever_the_environment(fresh_db, tmp_path, monkeypatch):
    monkeypatch.setenv("PANDERA_VALIDATION_DEPTH", "SCHEMA_ONLY")
    row = {"EPIKEY": "000000000001", "codes": "Y7"}
    result = load(fresh_db, episode_extract(tmp_path / "extract.txt", [row, GOOD]))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)


def test_stray_quotes_that_merge_lines_refuse_the_file(fresh_db, tmp_path):
    """A quote opened in one line and closed two lines later makes three lines one row, with
    no error from the reader: 5 data lines would load as 3 rows."""
    rows = [
        {"EPIKEY": "000000000001"},
        {"EPIKEY": "000000000002", "PROCODE3": '"RXA'},
        {"EPIKEY": "000000000003"},
        {"EPIKEY": "000000000004", "PROCODE3": 'RXB"'},
        {"EPIKEY": "000000000005"},
    ]
    path = episode_extract(tmp_path / "extract.txt", rows)
    with pytest.raises(UnusableInput, match=re.escape(
        f"{path}: row 2: a quote opened here is never closed on its line, so 5 data lines read as 3 rows"
    )):  # fmt: skip
        load(fresh_db, path)
    assert fresh_db.sql("select count(*) from episodes").fetchall() == [(0,)]


def _extract_lines(tmp_path, ends: list[bytes], middle: bytes = b"") -> Path:
    """An extract of three good rows (ids 1-3, one procedure each), each line ending as
    `ends` says, with `middle` (a whole line) after the first row."""
    rows = [{"EPIKEY": str(n), "codes": "J023"} for n in (1, 2, 3)]
    path = episode_extract(tmp_path / "extract.txt", rows, positions=1)
    header, *rows = path.read_bytes().splitlines()
    lines = [header + b"\n", rows[0] + ends[0], middle, rows[1] + ends[1], rows[2] + ends[2]]
    path.write_bytes(b"".join(lines))
    return path


# ¦ is the file's delimiter; CR and LF the line-end bytes; `.` no middle line.
CR_CASES = """
| case                          | ends          | middle                                                        | read | loaded | quarantined                |
| one CRLF line in an LF file   | CRLF LF LF    | .                                                             | 3    | 3      | .                          |
| a blank CR line               | LF LF LF      | CR LF                                                         | 3    | 3      | .                          |
| a CRLF blank line             | LF LF LF      | CRLF                                                          | 3    | 3      | .                          |
| one LF line in a CRLF file    | CRLF LF CRLF  | .                                                             | 3    | 3      | .                          |
| a CR ends the file            | LF LF CR      | .                                                             | 3    | 3      | .                          |
| a lone CR inside a code       | LF LF LF      | 9¦RXA¦2025-05-01¦2025-05-01¦2025-05-04¦1¦50¦J0CR23¦2025-05-02 LF | 4 | 3   | 2:procedure_code_malformed |
| a lone CR inside a short line | LF LF LF      | 9¦RXA¦2025-05-01 CR ¦2025-05-01 LF                            | 4    | 3      | 2:line_malformed           |
| a CR inside a quoted field    | LF LF LF      | 9¦"RCRXA"¦2025-05-01¦2025-05-01¦2025-05-04¦5¦50¦J023¦2025-05-02 LF | 4 | 3   | 2:sex_invalid              |
| a lone CR, too many fields    | LF CRLF LF    | 9¦RXA¦2025-05-01¦2025-05-01¦2025-05-04¦1¦50¦J023¦2025-05-02¦x CR ¦y LF | 4 | 3 | 2:line_malformed   |
"""


@pytest.mark.parametrize(
    "case", parse_table(CR_CASES), ids=[c["case"] for c in parse_table(CR_CASES)]
)
def test_stray_crs_load_or_quarantine_their_line(fresh_db, tmp_path, case):
    """LF or CRLF, whichever each line has; a CR before a line end ends the line; any other
    CR is part of its field. Never the whole file refused for one line."""

    def raw(text: str) -> bytes:
        text = text.replace(" ", "").replace("¦", "|")
        return text.replace("CR", "\r").replace("LF", "\n").encode()

    path = _extract_lines(tmp_path, [raw(end) for end in case["ends"].split()], raw(case["middle"]))
    result = load(fresh_db, path)
    read, loaded = int(case["read"]), int(case["loaded"])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        read, loaded, read - loaded
    )  # fmt: skip
    quarantined = fresh_db.sql("select distinct source_row || ':' || reason from quarantine")
    assert [q for (q,) in quarantined.fetchall()] == (
        [case["quarantined"]] if case["quarantined"] else []
    )
    loaded = fresh_db.sql("select episode_id from episodes order by 1").fetchall()
    assert loaded == [("1",), ("2",), ("3",)]
    raw_table = fresh_db.execute("select raw_table from input_files").fetchall()[0][0]
    assert fresh_db.sql(f"select count(*) from {raw_table}").fetchall()[0][0] >= 3


def test_a_layout_giving_one_provider_code_loads_it_for_every_episode(fresh_db, tmp_path):
    """A wide layout with no provider column names one code (provider = "CODE")."""
    from liver_audit.layouts import parse_layout
    from liver_audit.load import load_file

    layout = parse_layout(
        "no_provider",
        {"title": "t", "source": "s", "provider": "RXZ", "episode_id": "EPIKEY",
         "episode_start_date": "EPISTART", "episode_end_date": "EPIEND",
         "procedure_codes": ["OPERTN_4_{nn}"]},
        "test",
    )  # fmt: skip
    path = tmp_path / "extract.txt"
    path.write_text("EPIKEY|EPISTART|EPIEND|OPERTN_4_01\n1|2025-05-01|2025-05-02|J023\n")
    result = load_file(fresh_db, path, "episode_extract", "run-1", layout=layout)
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    assert fresh_db.sql("select provider_code from episodes").fetchall() == [("RXZ",)]
