"""Hostile text extracts, generated: stray quotes, CRs and CRLF mixes, blank lines, control
characters, formula prefixes. Whatever the lines, a file loads with every data line read
(loaded or quarantined) or is refused in one line naming it; never a traceback."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.errors import UnusableInput
from liver_audit.warehouse import connect
from tests.examples import examples
from tests.tables import load

HEADER = ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE", "OPERTN_4_01"]
GOOD = ["1", "RXA", "2025-05-01", "2025-05-01", "2025-05-04", "2", "61", "J023"]
# Every hostile value carries this, so a message that quotes one is caught.
VALUE = "PATIENT"

hostile_value = st.sampled_from(
    [
        f'"{VALUE}', f'{VALUE}"', f'"{VALUE}"', f'{VALUE}"{VALUE}', f"={VALUE}", f"+{VALUE}",
        f"@{VALUE}", f"-{VALUE}", f"{VALUE}\r{VALUE}", f"{VALUE}\x00", f"{VALUE}\x01",
        f"{VALUE}\x1b", f"\t{VALUE}", f"{VALUE}|{VALUE}", f"{VALUE},{VALUE}", f'"{VALUE}\n',
    ]
)  # fmt: skip


@st.composite
def data_line(draw, delimiter: str) -> str:
    """A data line without its line end: a good row, one with hostile values, fields missing
    or added, or a blank line."""
    kind = draw(st.sampled_from(["good", "hostile", "short", "long", "blank"]))
    fields = [str(draw(st.integers(1, 99)))] + GOOD[1:]
    if kind == "hostile":
        for _ in range(draw(st.integers(1, 3))):
            fields[draw(st.integers(0, len(fields) - 1))] = draw(hostile_value)
    elif kind == "short":
        fields = fields[: draw(st.integers(1, len(fields) - 1))]
    elif kind == "long":
        fields += [VALUE] * draw(st.integers(1, 3))
    elif kind == "blank":
        return ""
    return delimiter.join(fields)


@st.composite
def extract(draw) -> tuple[bytes, int]:
    """A file's bytes and its data lines: the non-blank lines after the header, a line
    being what lies between LFs, less a CR that ends it."""
    delimiter = draw(st.sampled_from(["|", ","]))
    lines = draw(st.lists(data_line(delimiter), min_size=1, max_size=8))
    if len(lines) > 1 and draw(st.booleans()):
        # a quote opened in one line and closed in a later one, in the same field: the
        # reader merges the lines between into one row without an error
        opened, closed = sorted(
            draw(st.sets(st.integers(0, len(lines) - 1), min_size=2, max_size=2))
        )
        for number, value in [(opened, f'"{VALUE}'), (closed, f'{VALUE}"')]:
            lines[number] = delimiter.join([GOOD[0], value, *GOOD[2:]])
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(lines) + 1,
                         max_size=len(lines) + 1))  # fmt: skip
    text = delimiter.join(HEADER) + ends[0]
    text += "".join(line + end for line, end in zip(lines, ends[1:], strict=True))
    if draw(st.booleans()):  # no line end after the last line
        text = text[: -len(ends[-1])]
    written = text.encode()
    data = [line.removesuffix(b"\r") for line in written.split(b"\n")[1:]]
    return written, sum(1 for line in data if line)


@pytest.fixture(scope="module")
def warehouse():
    """One in-memory warehouse for every example (a fresh one costs more than a load): a
    refused file must leave nothing behind that upsets the next."""
    con = connect(":memory:")
    yield con
    con.close()


def check_loads_or_is_refused(con, content: bytes, data_lines: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extract.txt"
        path.write_bytes(content)
        try:
            result = load(con, path)
        except UnusableInput as error:  # exit 2: one line naming the file, no values
            message = str(error)
            assert message.startswith(f"{path}: ") and "\n" not in message
            assert VALUE not in message
            return
    assert result.rows_read == data_lines
    assert result.rows_read == result.rows_loaded + result.rows_quarantined


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(file=extract())
def test_a_hostile_extract_loads_every_data_line_or_is_refused_in_one_line(warehouse, file):
    check_loads_or_is_refused(warehouse, *file)


def _file(*rows: list[str], end: str = "\n") -> bytes:
    return "".join("|".join(row) + end for row in [HEADER, *rows]).encode()


@pytest.mark.parametrize(
    "content, data_lines",
    [
        # the case: a quote opened on line 2 and closed on line 4
        (_file(GOOD, ["2", '"RXA', *GOOD[2:]], GOOD, ["4", 'RXB"', *GOOD[2:]], GOOD), 5),
        (_file(GOOD, end="\r\n") + b"\r\n", 1),
    ],
    ids=["stray quotes merge lines", "CRLF file with a blank line"],
)
def test_examples(warehouse, content, data_lines):
    check_loads_or_is_refused(warehouse, content, data_lines)
