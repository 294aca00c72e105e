"""Hostile extracts, written by hypothesis, against every promise of the README (issue 12).

Each example writes an episode extract (pipe or comma text, or Parquet) whose fields mix
good values with control characters, stray quotes, CR and CRLF line ends, odd dates (year
0000, negative years, 30 February), formula prefixes and codes in every spelling, under an odd
file name; a Parquet file may have damaged data pages. The file then goes through what a run
does with it (load, assess, summarise, write the audit files), in a fresh warehouse, and:

- it is refused (exit 2: UnusableInput) with a one-line message naming the file, or loaded;
- loaded, `rows_read` equals the data lines written (non-blank lines after the header), and
  every row read is loaded or quarantined;
- loaded, the complete set of audit files is written and each opens in its reader.
Anything else raised would be exit 1 with a stuck inbox, and fails the test.
"""

import csv
import json
import os
import string

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.assess import assess
from liver_audit.config import default_settings
from liver_audit.errors import UnusableInput
from liver_audit.load import load_file
from liver_audit.outputs import build_summary, write_outputs
from liver_audit.warehouse import connect
from tests.examples import examples
from tests.tables import EPISODE_DEFAULTS, EPISODE_HEADER

# About a second an example on 2 cores (a fresh warehouse, a load, the audit files).
pytestmark = pytest.mark.slow

AUDIT_FILES = [
    "assessments.csv", "quarantine.csv", "report.html", "summary.json",
    "summary_shareable.csv", "worklist.xlsx",
]  # fmt: skip
HEADER = EPISODE_HEADER + ["OPERTN_4_01", "OPDATE_01", "OPERTN_4_02", "OPDATE_02"]
GOOD = {**EPISODE_DEFAULTS, "OPERTN_4_01": "J023", "OPDATE_01": "2025-05-02",
        "OPERTN_4_02": "Y752", "OPDATE_02": ""}  # fmt: skip
HOSTILE = [
    "", "NA", "NULL", "-", "&", " ", "=1+1", '=HYPERLINK("x","y")', "+44", "-3", "@SUM(A1)",
    '"RXA', 'RXB"', '"', '""', 'a"b', "a\rb", "\r", "\x07", "\x01x", "\x1b[31m", "\x00",
    "\t", "J02.3", " j023 ", "J0231", "Y75.2", "0000-05-01", "-024-05-01", "9999-12-31",
    "1800-01-01", "1801-01-01", "2024-02-30", "2024-02-29", "2025-13-01", "25-05-01",
    "7001", "121", "2.0", "é", "\ufeff", "\uffff",
]  # fmt: skip
# Any field but a line break: one field never makes two lines.
FIELD = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\n"),
            max_size=12),
)  # fmt: skip
ROW = st.fixed_dictionaries({}, optional={column: FIELD for column in HEADER})
# An odd file name: formula prefixes, quotes, spaces, non-ASCII; never a path separator.
FILE_NAME = st.text(
    st.sampled_from(string.ascii_letters + string.digits + " =+-@'\"()!#$%&,;[]{}~é_"),
    min_size=1, max_size=20,
).map(lambda name: f"{name}.txt")  # fmt: skip
EXAMPLES = settings(
    max_examples=examples(30), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip


def audit(path, folder) -> int | None:
    """What a run does with one file; returns rows_read, or None if it was refused."""
    with connect(":memory:") as con:
        try:
            result = load_file(con, path, "episode_extract", "hostile-run")
        except UnusableInput as error:
            message = str(error)
            assert "\n" not in message and "\r" not in message, message
            assert path.name in message, message
            return None
        assert result.rows_read == result.rows_loaded + result.rows_quarantined
        assess(con, "hostile-run")
        summary = build_summary(con, "hostile-run")
        out = folder / "out"
        write_outputs(con, default_settings(), summary, out)
    assert sorted(os.listdir(out)) == AUDIT_FILES
    openpyxl.load_workbook(out / "worklist.xlsx")
    json.loads((out / "summary.json").read_text())
    for name in AUDIT_FILES:
        if name.endswith(".csv"):
            with (out / name).open(newline="", encoding="utf-8") as f:
                list(csv.reader(f))
    return result.rows_read


@EXAMPLES
@given(
    rows=st.lists(ROW, max_size=6),
    delimiter=st.sampled_from(["|", ","]),
    endings=st.lists(st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n", "\n\r\n"]), min_size=7,
                     max_size=7),
    name=FILE_NAME,
)  # fmt: skip
def test_a_hostile_text_extract_is_refused_or_loaded_whole(
    tmp_path_factory, rows, delimiter, endings, name
):
    folder = tmp_path_factory.mktemp("hostile")
    lines = [delimiter.join(HEADER)] + [
        delimiter.join((GOOD | {"EPIKEY": f"{n:012d}"} | row)[column] for column in HEADER)
        for n, row in enumerate(rows)
    ]
    path = folder / name
    path.write_bytes("".join(line + end for line, end in zip(lines, endings)).encode())
    data_lines = sum(1 for line in lines[1:] if line.replace("\r", "").strip(" ") != "")
    rows_read = audit(path, folder)
    if data_lines == 0:
        assert rows_read is None, "a file with no data rows must be refused"
    elif rows_read is not None:
        assert rows_read == data_lines


@EXAMPLES
@given(rows=st.lists(ROW, min_size=1, max_size=6), damage=st.none() | st.integers(0, 2**16),
       name=FILE_NAME.map(lambda n: n.replace(".txt", ".parquet")))  # fmt: skip
def test_a_hostile_parquet_extract_is_refused_or_loaded_whole(tmp_path_factory, rows, damage, name):
    folder = tmp_path_factory.mktemp("hostile-parquet")
    path = folder / name
    frame = pl.DataFrame(
        [GOOD | {"EPIKEY": f"{n:012d}"} | row for n, row in enumerate(rows)],
        schema=dict.fromkeys(HEADER, pl.String),
    )
    frame.write_parquet(path, compression="uncompressed", statistics=False)
    if damage is not None:  # damaged data pages, the footer intact
        data = bytearray(path.read_bytes())
        footer = int.from_bytes(data[-8:-4], "little") + 8
        body = range(4, len(data) - footer)
        for offset in range(damage % len(body), len(body), 7):
            data[body[offset]] ^= 0xA5
        path.write_bytes(bytes(data))
    rows_read = audit(path, folder)
    if damage is None and rows_read is None:
        raise AssertionError("an intact Parquet file was refused")
    if rows_read is not None:
        assert rows_read == len(rows)
