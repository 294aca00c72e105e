"""Every message naming a file is one line, whatever the file's name: a newline or another
control character in it is escaped, as Python writes it (`\\n`), never printed."""

import io
import os
import subprocess
import sys
import unicodedata
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liver_audit.cli import main, print_summary
from liver_audit.config import default_settings
from liver_audit.errors import StageFailed, UnusableInput
from liver_audit.warehouse import connect
from tests.conftest import REPO, SAMPLE
from tests.examples import examples

# A file name: any character but / and NUL (those a name cannot hold); undecodable bytes
# reach Python as lone surrogates.
NAMES = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=()), min_size=1, max_size=20
).filter(lambda name: name not in (".", ".."))


@pytest.fixture(autouse=True)
def keep_umask(monkeypatch):
    """main() sets the process umask and environment (share_with_group): the test process
    gets its own back."""
    monkeypatch.setenv("LIVER_AUDIT_SHARE_WITH_GROUP", "0")
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)


@given(st.text(st.characters(blacklist_categories=())))
def test_one_line_leaves_one_line_that_can_be_printed(text):
    from liver_audit.errors import one_line

    escaped = one_line(text)
    assert len(escaped.splitlines()) <= 1
    # no control character, line or paragraph separator, or lone surrogate (stdout cannot
    # write one) is left
    assert not {unicodedata.category(c) for c in escaped} & {"Cc", "Zl", "Zp", "Cs"}
    assert one_line(escaped) == escaped  # escaping twice changes nothing


@pytest.mark.parametrize(
    "name, shown",
    [
        ("plain name.csv", "plain name.csv"),
        ("two\nlines.csv", "two\\nlines.csv"),
        ("carriage\r.csv", "carriage\\r.csv"),
        ("\x1b[31mred.csv", "\\x1b[31mred.csv"),
        ("line\u2028separator.csv", "line\\u2028separator.csv"),
        ("latin-1 \udce9.csv", "latin-1 \\udce9.csv"),
        ("épisodes.csv", "épisodes.csv"),  # printable text is left as it is
    ],
)
def test_control_characters_are_escaped_as_python_writes_them(name, shown):
    assert str(UnusableInput(f"{name}: no such file")) == f"{shown}: no such file"
    assert str(StageFailed(f"{name}: load: ValueError")) == f"{shown}: load: ValueError"


@settings(max_examples=examples(50), deadline=None)
@given(NAMES)
def test_a_file_that_is_not_there_is_named_in_one_line(name):
    errors = io.StringIO()
    with redirect_stderr(errors):
        code = main(["run", f"/no-such-folder-liver-audit/{name}"])
    assert code == 2
    (line,) = errors.getvalue().splitlines()
    assert line.startswith("liver-audit: /no-such-folder-liver-audit/")
    assert line.endswith(": no such file")


def test_a_file_named_with_a_newline_is_refused_in_one_line(tmp_path):
    """Found unusable once Prefect's server starts (a theatre file as an extract): one line."""
    path = tmp_path / "theatre\nrecords.csv"
    path.write_bytes((SAMPLE / "theatre.csv").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    result = subprocess.run(
        [sys.executable, "-m", "liver_audit.cli", "run", str(path),
         "--warehouse", str(tmp_path / "wh.duckdb")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == (
        f"liver-audit: {tmp_path}/theatre\\nrecords.csv: this looks like a theatre file "
        "(EPIKEY, OPDATE, APPROACH): use --theatre"
    )


def test_the_run_summary_names_files_in_one_line_each(tmp_path):
    summary = {
        "run_id": "r1",
        "files_skipped": [
            {"file_name": "a\nb.csv", "reason": "content already loaded, as a\nb.csv"}
        ],
        "files_refused": [{"file_name": "c\rd.csv"}],
        "out_dir": None,
    }
    out = io.StringIO()
    with redirect_stdout(out):
        print_summary(
            summary,
            default_settings(warehouse=tmp_path / "wh\n.duckdb", reports=tmp_path / "r\nr"),
        )
    assert out.getvalue().splitlines() == [
        "liver-audit run r1 completed",
        "  skipped a\\nb.csv: content already loaded, as a\\nb.csv",
        "  refused c\\rd.csv",
        "  nothing new: no file or verdict to read, so no audit files were written; the latest "
        f"report shows the position: {tmp_path}/r\\nr/index.html",
        f"  warehouse: {tmp_path}/wh\\n.duckdb",
    ]


def test_history_shows_a_file_named_with_a_newline_on_one_line(tmp_path):
    with connect(tmp_path / "wh.duckdb") as con:
        con.execute(
            "insert into run_stages by name select 'r1' as run_id, 'read' as stage, "
            "'a\nb.csv' as file_name, ? as started_at, 0.5 as seconds, 3 as rows, "
            "'completed' as status",
            [datetime(2026, 1, 1)],
        )
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["history", "--warehouse", str(tmp_path / "wh.duckdb"), "--run", "r1"]) == 0
    header, row = out.getvalue().splitlines()
    assert row.split()[:2] == ["a\\nb.csv", "read"]


@pytest.mark.slow  # a real run through the CLI, its own Prefect server: make test-all (CI)
def test_a_file_name_that_is_not_utf8_is_refused_and_the_rest_loads(tmp_path):
    """DuckDB cannot open such a name: refused (exit 2, moved to refused/), never a failed
    run that leaves it in the inbox to stop the files after it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    latin1 = os.fsdecode(b"caf\xe9.csv")  # as a Windows share may deliver it
    (inbox / latin1).write_bytes((SAMPLE / "episodes.csv").read_bytes())
    (inbox / "theatre.csv").write_bytes((SAMPLE / "theatre.csv").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    command = [sys.executable, "-m", "liver_audit.cli", "run", "--warehouse",
               str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports")]  # fmt: skip
    named = subprocess.run([*command, str(inbox / latin1)], capture_output=True, text=True,
                           cwd=REPO, env=env, timeout=300)  # fmt: skip
    assert (named.returncode, named.stderr) == (
        2, f"liver-audit: {inbox}/caf\\xe9.csv: the file name is not UTF-8: rename the file\n"
    )  # fmt: skip
    result = subprocess.run([*command, "--inbox", str(inbox), "--move-processed"],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith("caf\\xe9.csv: the file name is not UTF-8: rename the file")
    assert os.listdir(inbox / "refused") == [latin1]
    assert os.listdir(inbox / "processed") == ["theatre.csv"]
