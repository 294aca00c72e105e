"""Progress lines show on a terminal and stay quiet anywhere else."""

import io

from liver_audit.progress import stage


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal():
    terminal = Terminal()
    stage("extract.csv: 5,000,000 rows read", terminal)
    assert "extract.csv: 5,000,000 rows read" in terminal.getvalue()


def test_progress_is_quiet_when_not_a_terminal():
    pipe = io.StringIO()
    stage("extract.csv: reading", pipe)
    assert pipe.getvalue() == ""
