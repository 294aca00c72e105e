"""Write small extracts from pipe tables in tests, so tests read like the data."""

from pathlib import Path

from liver_audit.load import load_file

EPISODE_HEADER = ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE"]
EPISODE_DEFAULTS = {
    "PROCODE3": "RXA",
    "ADMIDATE": "2025-05-01",
    "EPISTART": "2025-05-01",
    "EPIEND": "2025-05-04",
    "SEX": "2",
    "STARTAGE": "61",
}


def parse_table(text: str) -> list[dict]:
    """Rows of a pipe table (first line = header); `.` in a cell means an empty field."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append({h: ("" if c == "." else c) for h, c in zip(header, cells, strict=True)})
    return rows


def episode_extract(
    path: Path,
    rows: list[dict],
    delimiter: str = "|",
    positions: int = 6,
    diagnosis_columns: str = "DIAG_4_",
) -> Path:
    """An extract with the required columns, OPERTN_4_01.. and OPDATE_01.., from dict rows;
    and DIAG_4_01.. (or `diagnosis_columns`nn) as many as the most any row has.

    A row's `codes` (and `diagnoses`) is a space-separated list of procedure (diagnosis)
    codes, `_` for an empty position and `˽` for a space inside a field (a padded code).
    """

    def fields(text: str) -> list[str]:
        return [("" if c == "_" else c.replace("˽", " ")) for c in text.split()]

    diagnoses = max((len(fields(row.get("diagnoses", ""))) for row in rows), default=0)
    header = EPISODE_HEADER + [
        f"{kind}_{n:02d}" for n in range(1, positions + 1) for kind in ("OPERTN_4", "OPDATE")
    ]
    header += [f"{diagnosis_columns}{n:02d}" for n in range(1, diagnoses + 1)]
    lines = [delimiter.join(header)]
    for row in rows:
        codes = fields(row.get("codes", ""))
        codes += [""] * (positions - len(codes))
        values = [row.get(h, EPISODE_DEFAULTS.get(h, "")) for h in EPISODE_HEADER]
        for code in codes:
            values += [code, "2025-05-02" if code else ""]
        coded = fields(row.get("diagnoses", ""))
        values += coded + [""] * (diagnoses - len(coded))
        lines.append(delimiter.join(values))
    path.write_text("\n".join(lines) + "\n")
    return path


def theatre_file(path: Path, rows: list[dict]) -> Path:
    lines = ["EPIKEY,OPDATE,APPROACH"]
    lines += [f"{r['EPIKEY']},{r.get('OPDATE', '2025-05-02')},{r['APPROACH']}" for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def load(con, path: Path, kind: str = "episode_extract", run_id: str = "test-run"):
    return load_file(con, path, kind, run_id)
