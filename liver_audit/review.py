"""Auditors' verdicts back into the warehouse: `liver-audit review WORKLIST.xlsx` reads the
verdict and comment of every finding a returned worklist carries, by the finding's hidden
key (sql/warehouse.sql: finding_key), into the verdicts table. A bad row is one line naming its
sheet and row; the valid rows still load; the same file twice changes nothing; the returned
file is kept, as a delivery is."""

import hashlib
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import load_workbook

from liver_audit.config import private_mode
from liver_audit.errors import UnusableInput
from liver_audit.warehouse import REFERENCE_DIR, database_file, sql, utc_now


def verdicts(given_to: str) -> list[str]:
    """The verdicts an auditor can give a finding `needing action`, or a `compliant` one of
    the sample (the worklist's drop-downs), from data/reference/verdicts.csv, which the
    warehouse also holds (verdict_kinds) to check them on review."""
    kinds = pl.read_csv(REFERENCE_DIR / "verdicts.csv")
    return sorted(kinds.filter(pl.col("given_to") == given_to)["verdict"])


VERDICTS = verdicts("needing action")
SAMPLE_VERDICTS = verdicts("compliant")
KEY_HEADER = "finding key"
VERDICT_HEADER = "auditor verdict"
COMMENT_HEADER = "auditor comment"


def returned_rows(path: Path) -> tuple[pl.DataFrame, str | None, datetime | None]:
    """The rows of the worklist's rule sheets that carry a verdict or a comment: sheet, row,
    key, verdict, comment; and who last saved the workbook, and when (its metadata)."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # any file openpyxl cannot open: one line, never its content
        raise UnusableInput(f"{path}: not a worklist openpyxl can open (.xlsx)") from None
    rows = []
    for sheet in workbook.worksheets:
        lines = sheet.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(lines, ())]
        if KEY_HEADER not in header:
            continue  # the rules and quarantine sheets
        if not {VERDICT_HEADER, COMMENT_HEADER} <= set(header):
            raise UnusableInput(
                f"{path}: sheet {sheet.title} row 1: the columns {VERDICT_HEADER} and "
                f"{COMMENT_HEADER} are missing"
            )
        key, verdict = header.index(KEY_HEADER), header.index(VERDICT_HEADER)
        comment = header.index(COMMENT_HEADER)
        for number, values in enumerate(lines, start=2):
            cells = [text(values, i) for i in (key, verdict, comment)]
            if cells[1] or cells[2]:
                rows.append((sheet.title, number, *cells))
    properties = workbook.properties
    workbook.close()
    frame = pl.DataFrame(
        rows,
        schema={"sheet": pl.String, "sheet_row": pl.Int32, "finding_key": pl.String,
                "verdict": pl.String, "comment": pl.String},
        orient="row",
    )  # fmt: skip
    modified = properties.modified.replace(tzinfo=None) if properties.modified else None
    return frame, properties.lastModifiedBy or properties.creator, modified


def text(values: tuple, index: int) -> str | None:
    value = values[index] if index < len(values) else None
    return str(value).strip() or None if value is not None else None


def review(
    con: duckdb.DuckDBPyConnection, path: Path, reviewer: str | None = None
) -> tuple[int, list[str]] | None:
    """Read the returned worklist's verdicts into the warehouse. Returns the verdicts loaded
    and one line per refused row (sheet, row, why: never the row's values); None when this
    content was read before (nothing changes)."""
    content = path.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    if con.execute("select 1 from returned_worklists where sha256 = ?", [sha256]).fetchall():
        return None
    rows, saved_by, saved_at = returned_rows(path)
    con.register("returned_rows", rows)
    checked = con.sql(sql("review/returned_rows_checked")).pl()
    con.unregister("returned_rows")
    valid = checked.filter(pl.col("problem").is_null())
    refused = [
        f"{path}: sheet {sheet} row {row}: {problem}"
        for sheet, row, problem in checked.filter(pl.col("problem").is_not_null())
        .select("sheet", "sheet_row", "problem")
        .iter_rows()
    ]
    kept = keep_copy(con, path, sha256, content)
    now = utc_now()
    con.begin()
    try:
        con.register("valid_rows", valid)
        con.execute(
            "insert into verdicts select finding_key, rule_id, episode_id, position, outcome, "
            "episode_version, verdict, comment, ?, ?, ?, sheet, sheet_row, ? from valid_rows",
            [reviewer or saved_by, saved_at, sha256, now],
        )
        con.unregister("valid_rows")
        con.execute(
            "insert into returned_worklists values (?, ?, ?, ?, ?, ?, ?)",
            [
                sha256,
                path.name,
                kept and str(kept),
                now,
                checked.height,
                valid.height,
                len(refused),
            ],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return valid.height, refused


def keep_copy(
    con: duckdb.DuckDBPyConnection, path: Path, sha256: str, content: bytes
) -> Path | None:
    """The returned file as it came, in <warehouse file>.returned/ beside the kept deliveries
    (nothing the auditor wrote is lost; not in .delivered/, whose housekeeping knows only
    the ledger's files), private to its owner."""
    path = database_file(con)
    if path is None:
        return None
    folder = Path(f"{path}.returned")
    folder.mkdir(mode=private_mode(folder=True), exist_ok=True)
    kept = folder / f"{sha256}.xlsx"
    if not kept.exists():
        partial = kept.with_suffix(".partial")
        partial.write_bytes(content)
        partial.chmod(private_mode())
        partial.replace(kept)
    return kept


# In the inbox, the folder auditors return worklists to; the nightly run reads each.
RETURNED = "returned"


def returned_folder(inbox: Path | None) -> Path | None:
    """INBOX/returned/, if there is one."""
    folder = inbox / RETURNED if inbox else None
    return folder if folder and folder.is_dir() else None


def read_returned_worklists(con: duckdb.DuckDBPyConnection, inbox: Path | None) -> list[dict]:
    """Every worklist in INBOX/returned/ (oldest first), read as `liver-audit review` reads
    one: per file, its name and what came of it (verdicts read, rows refused, one line each,
    or why the file was refused; `read before` when its content was). A file that is not a
    worklist is refused and the rest still read."""
    folder = returned_folder(inbox)
    if folder is None:
        return []
    files = sorted(
        (p for p in folder.iterdir()
         if p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith((".", "~$"))),
        key=lambda p: (p.stat().st_mtime_ns, p.name),
    )  # fmt: skip
    results = []
    for path in files:
        try:
            result = review(con, path)
        except Exception as error:  # one file never stops the night: refused, as a delivery
            reason = str(error) if isinstance(error, UnusableInput) else (
                f"{path}: could not be read as a worklist ({type(error).__name__})"
            )  # fmt: skip
            results.append({"file_name": path.name, "path": str(path), "refused": reason,
                            "verdicts": 0, "rows_refused": []})  # fmt: skip
            continue
        loaded, refused = result if result else (0, [])
        results.append({"file_name": path.name, "path": str(path), "refused": None,
                        "read_before": result is None, "verdicts": loaded,
                        "rows_refused": refused})  # fmt: skip
    return results
