"""`liver-audit sql`: read-only queries on the stable views, exported as CSV or JSON, or typed
at a prompt; writes and file access are refused in one line."""

import csv
import io
import json
import subprocess
import sys

import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from tests.conftest import SAMPLE
from tests.test_cli import liver_audit

# The setting in a run's connection and in `liver-audit sql`'s, one after the other.
SETTINGS = """
import sys
from liver_audit.warehouse import connect, open_read_only
query = "select current_setting('enable_progress_bar')"
with connect(sys.argv[1]) as con:
    print(con.sql(query).fetchall()[0][0])
with open_read_only(sys.argv[1], external_access=False) as con:
    print(con.sql(query).fetchall()[0][0])
"""


@pytest.fixture(scope="module")
def warehouse(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("sql")
    audit_run(
        default_settings(warehouse=str(folder / "wh.duckdb"), reports=str(folder / "reports")),
        extracts=[str(SAMPLE / "episodes.csv")],
        theatre=str(SAMPLE / "theatre.csv"),
        run_id="run-1",
    )
    return str(folder / "wh.duckdb")


def test_a_query_prints_a_table_of_the_stable_views(warehouse):
    result = liver_audit("sql", "--warehouse", warehouse,
                         "select outcome, count(*) as n from assessments group by all order by n desc")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["outcome", "n"]
    # data/sample/README.md, "Findings": code_in_force 155 + 110 (opcs_code_in_force and
    # icd10_code_in_force); compliant 27 + 34 + 69 = 130 over the first three rules and 7 over
    # the seven NICE rules (one row each); 29 outcomes found: liver_resection_approach's 8,
    # approach_code_not_directly_after, subsidiary_code_in_primary_position,
    # opcs_code_in_force's 4, liver_indication_coded's 2, the NICE rules' 12 other than
    # compliant, and diagnosis_not_known
    assert lines[1].split() == ["code_in_force", "265"]
    assert lines[2].split() == ["compliant", "137"]
    assert lines[-1] == "(29 rows)"


def test_no_connection_draws_duckdbs_progress_bar(warehouse):
    """DuckDB draws a progress bar on stdout for any query over 2 s: into a run's piped
    output and an export. (Checked in a process of its own: under pytest's capture DuckDB
    leaves it off anyway.)"""
    settings = subprocess.run(
        [sys.executable, "-c", SETTINGS, warehouse], capture_output=True, text=True, check=True
    )
    assert settings.stdout.split() == ["False", "False"]


def test_csv_and_json_export_every_row(warehouse):
    # rule_id too: a position now has a finding of each rule that assesses it
    query = "select episode_id, outcome from assessments order by episode_id, position, rule_id"
    as_csv = liver_audit("sql", "--warehouse", warehouse, "--csv", query)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    # 512 findings: data/sample/README.md, "Findings"
    assert len(rows) == 512 and set(rows[0]) == {"episode_id", "outcome"}
    as_json = liver_audit("sql", "--warehouse", warehouse, "--json", query)
    assert json.loads(as_json.stdout) == rows  # the same rows, the same order


def test_a_long_result_is_cut_and_says_so(warehouse):
    result = liver_audit("sql", "--warehouse", warehouse, "--max-rows", "5",
                         "select * from procedures")  # fmt: skip
    assert len(result.stdout.splitlines()) == 1 + 5 + 1
    assert "more rows" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "query, message",
    [
        ("delete from main.episodes", "liver-audit sql is read-only: DELETE is not a query"),
        ("create table x as select 1", "liver-audit sql is read-only: CREATE is not a query"),
        ("copy (select * from episodes) to 'leak.csv'", "liver-audit sql is read-only: COPY"),
        ("select * from read_csv('data/sample/episodes.csv')",
         "liver-audit: query failed: Permission Error"),
        ("select nonsense", "liver-audit: query failed: Binder Error"),
    ],
)  # fmt: skip
def test_writes_and_file_access_are_refused_in_one_line(warehouse, query, message):
    result = liver_audit("sql", "--warehouse", warehouse, query)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(message)


def test_the_prompt_runs_statements_until_quit(warehouse):
    typed = "select count(*) as episodes\nfrom episodes;\nselect nonsense;\n.views\n.quit\n"
    result = liver_audit("sql", "--warehouse", warehouse, stdin=typed)
    assert result.returncode == 0
    assert "74" in result.stdout  # the count (74 loaded), over two lines of input
    assert "error: Binder Error" in result.stdout  # an error, and the prompt goes on
    for view in ("assessments", "episodes", "files", "procedures", "quarantine", "runs"):
        assert view in result.stdout


def test_the_files_as_delivered_can_be_read_and_nothing_else(warehouse):
    query = "select raw_table from main.input_files where file_kind = 'episode_extract'"
    raw_view = liver_audit("sql", "--warehouse", warehouse, "--csv", query).stdout.split()[1]
    result = liver_audit("sql", "--warehouse", warehouse, f"select count(*) from {raw_view}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == ["86"]  # the sample's 86 data rows
    kept = f"{warehouse}.delivered/{raw_view}.txt"
    overwrite = liver_audit("sql", "--warehouse", warehouse, f"copy (select 1) to '{kept}'")
    assert overwrite.returncode == 2 and "read-only: COPY is not a query" in overwrite.stderr
