"""Loading one input file: read as delivered, stage (sql/), validate (schemas/), then load
the valid rows and quarantine the rest, all in one transaction. Heavy lifting is DuckDB SQL
and polars; nothing here loops over rows."""

from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from liver_audit.errors import ReconciliationError, StageFailed, UnusableInput
from liver_audit.extracts import (
    RawFile,
    check_has_rows,
    check_parquet_data,
    check_theatre_columns,
    create_raw_view,
    detect_format,
    discard,
    drop_stage_input,
    header_columns,
    keep_delivered,
    looks_like_theatre,
    read_raw,
    start_hashing,
    unchanged_since_hashed,
)
from liver_audit.layouts import LONG_KINDS, TABLE_OF_KIND, Layout, recognise, shipped_layouts
from liver_audit.progress import Stages
from liver_audit.validation import failed_checks
from liver_audit.warehouse import delivered_folder, sql, utc_now
from schemas import StagedDiagnosis, StagedEpisode, StagedProcedure, StagedTheatreRecord

# Staged column -> the source field a user knows it by (quarantine.csv's `field`), for a
# theatre file; an episode extract's come from its layout.
THEATRE_FIELDS = {"episode_id": "EPIKEY", "operation_date_text": "OPDATE"}


@dataclass
class FileResult:
    """Counts for one loaded file; rows_read = rows_loaded + rows_quarantined."""

    file_id: int
    file_kind: str
    file_name: str
    file_format: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    malformed_lines: int
    rows_unchanged: int

    def as_dict(self) -> dict:
        return asdict(self)


def inspect_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str,
    layouts: dict[str, Layout] | None = None,
    layout: str | None = None,
) -> tuple[str, Layout | None, str]:
    """Check a file is usable before any loading: returns its format, the layout an episode
    extract is read by (the one named, or the one of `layouts`, the shipped ones by default,
    whose columns it has) and its kind: theatre_records, episode_extract, or a long
    layout's procedures or diagnoses file (episode_procedures, episode_diagnoses); or
    raises UnusableInput."""
    layouts = layouts or shipped_layouts()
    file_format = detect_format(path)
    columns = header_columns(con, path, file_format)
    found = None
    if kind == "theatre_records":
        check_theatre_columns(path, columns, layouts)
    elif looks_like_theatre(columns, layouts):
        raise UnusableInput(
            f"{path}: this looks like a theatre file (EPIKEY, OPDATE, APPROACH): use --theatre"
        )
    else:
        found = recognise(path, columns, layouts, layout)
        kind = found.kind_of(columns)
    check_has_rows(con, path, file_format)
    return file_format, found, kind


@dataclass
class PreparedFile:
    """A file read, staged and validated on a connection, ready to write: its kept copy (or
    the copy under way), the staged temporary tables and raw_malformed_lines on that
    connection, its failed checks."""

    raw: RawFile
    file_id: int
    failures: pl.DataFrame
    digest: Future | None = None  # the file's SHA-256, if hashing was started here


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str,
    run_id: str,
    stages: Stages | None = None,
    sha256: str | None = None,
    turn: AbstractContextManager | None = None,
    file_id: int | None = None,
    layout: Layout | None = None,
) -> FileResult:
    """Load one episode extract or theatre file into the warehouse and enter it in the
    ledger. Reading, staging and validating write nothing shared (the kept copy and a text
    file's staging input aside); the rows are then written in one transaction, once `turn`
    is entered: files prepared side by side take turns in delivery order. `sha256`,
    `file_id` and an episode extract's `layout` (else a shipped one it fits): if the caller
    has them."""
    path = Path(path)
    stages = stages or Stages(path.name)
    prepared = prepare_file(con, path, kind, stages, file_id, hash_it=sha256 is None,
                            layout=layout)  # fmt: skip
    return write_prepared(con, prepared, run_id, stages, sha256, turn)


def prepare_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    kind: str,
    stages: Stages,
    file_id: int | None = None,
    hash_it: bool = False,
    keep: bool = True,
    layout: Layout | None = None,
) -> PreparedFile:
    """Read the file (keeping a copy beside the warehouse, unless `keep` is false) by its
    layout (an episode extract's: the one given, which it must fit, else a shipped one it
    fits), stage it and validate the staged rows. On failure nothing read is left behind."""
    file_kind = FILE_KINDS[kind]
    with stages("read") as read:
        given = {layout.name: layout} if layout else None
        file_format, layout, _ = inspect_file(con, path, kind, given, layout and layout.name)
        digest = start_hashing(path) if hash_it else None
        if file_id is None:
            file_id = con.execute("select nextval('input_file_ids')").fetchall()[0][0]
        raw = RawFile(path, kind, file_format, layout, raw_table=f"raw_{kind}_{file_id}")
        if keep:
            keep_delivered(raw, delivered_folder(con))
        try:
            read_raw(con, raw)
        except BaseException:
            discard(con, raw)
            raise
        read.rows = raw.rows_read
    try:
        with stages("stage") as staging:
            try:
                for name, query in file_kind.views.items():
                    con.execute(f"create or replace temp view {name} as {sql(query)}")
                for name in file_kind.staged:  # temporary tables: this connection's own
                    con.execute(f"create or replace temp table {name} as {sql(name)}")
            except duckdb.Error:
                # Staging is the first read of a Parquet file's values: a damaged one is
                # refused here, not failed run after run.
                if raw.file_format == "parquet":
                    check_parquet_data(con, raw)
                raise
            for statement in file_kind.completed_by:
                con.execute(sql(statement))
            staging.rows = _count(con, file_kind.staged[0])
        with stages("validate", rows=staging.rows):
            failures = pl.concat(
                [failed_checks(con, name, schema) for name, schema in file_kind.contracts.items()]
            )
    except BaseException:
        discard(con, raw)
        raise
    drop_stage_input(con, raw)  # staged now: the kept copy holds every column
    return PreparedFile(raw, file_id, failures, digest)


def write_prepared(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    run_id: str,
    stages: Stages,
    sha256: str | None = None,
    turn: AbstractContextManager | None = None,
) -> FileResult:
    """Quarantine the failed rows and load the rest, in one transaction entered in the
    ledger, once `turn` is entered. On failure nothing is written and the kept copy deleted."""
    raw, file_id = prepared.raw, prepared.file_id
    file_kind = FILE_KINDS[raw.kind]
    writing = False
    try:
        with turn or nullcontext(), stages("load") as loading:
            con.begin()  # after the turn: its snapshot holds every earlier file's rows
            writing = True
            _quarantine(con, raw, file_id, prepared.failures, file_kind.staged[0])
            file_kind.replace(con, file_id)
            counts = _count(con, "loaded_rows"), _count(con, "quarantined_source_rows")
            loading.rows = counts[0]
            result = _enter_file(
                con, raw, file_id, run_id, sha256 or prepared.digest.result(),
                *counts, _count(con, "unchanged_rows"),
            )  # fmt: skip
            con.commit()
            writing = False
    except BaseException:
        if writing:
            con.rollback()
        discard(con, raw)
        raise
    return result


@dataclass
class LongFile:
    """One file of a long layout's delivery: where it is, its kind (episode_extract,
    episode_procedures or episode_diagnoses), its id and its SHA-256 (if the caller has it;
    else its hashing, started as it is read)."""

    path: Path
    kind: str
    file_id: int
    sha256: str | Future | None = None


# A long delivery's staged tables, each of one file kind's rows, and the statements (sql/)
# that complete them once all are stored: the codes come from other files than episodes.
LONG_STAGED = {
    "episode_extract": "stg_episodes",
    "episode_procedures": "stg_procedures",
    "episode_diagnoses": "stg_diagnoses",
}
LONG_COMPLETED_BY = ("stg_episodes_id_copies", "stg_position_copies", "stg_episodes_codes")
LONG_CONTRACTS = {  # the table checked: its contract and the file kind its rows are of
    "stg_episodes": (StagedEpisode, "episode_extract"),
    "stg_procedures": (StagedProcedure, "episode_procedures"),
    "stg_diagnoses_to_validate": (StagedDiagnosis, "episode_diagnoses"),
}
LONG_VIEWS = {"procedure_positions": "procedure_rows", "diagnosis_positions": "diagnosis_rows"}


def load_long(
    con: duckdb.DuckDBPyConnection,
    files: list[LongFile],
    layout: Layout,
    run_id: str,
    stages: Stages | None = None,
    turn: AbstractContextManager | None = None,
) -> list[FileResult]:
    """Load a long layout's delivery (its episodes file, procedures file and diagnoses file,
    if any) in one transaction, each file entered in the ledger with its own counts: an
    episode loads whole, with every code the other files give it, or not at all."""
    kinds = sorted(file.kind for file in files)
    needed = sorted(LONG_KINDS[table] for table in layout.tables)
    if kinds != needed:  # a missing diagnoses file would delete the episodes' diagnoses held
        raise UnusableInput(
            f"{files[0].path}: a {layout.name} delivery is its files "
            f"({', '.join(layout.tables)}), one of each, loaded together"
        )
    stages = stages or Stages(files[0].path.name)
    prepared = prepare_long(con, files, layout, stages)
    return write_long(con, prepared, files, run_id, stages, turn)


def prepare_long(
    con: duckdb.DuckDBPyConnection, files: list[LongFile], layout: Layout, stages: Stages
) -> list[PreparedFile]:
    """Read each file of a long delivery (keeping a copy of each), stage them side by side
    and validate; a row another file's rows keep out is quarantined with its reason
    (sql/load/kept_out_with_episodes.sql). On failure nothing read is left behind."""
    raws: list[RawFile] = []
    try:
        with stages("read") as read:
            for file in files:
                file_format, _, kind = inspect_file(
                    con, file.path, file.kind, {layout.name: layout}, layout.name
                )
                if kind != file.kind:  # replaced since the run planned it
                    raise StageFailed(f"{file.path}: changed since planned: the next run loads it")
                raw = RawFile(file.path, kind, file_format, layout,
                              raw_table=f"raw_{kind}_{file.file_id}")  # fmt: skip
                raws.append(raw)
                if file.sha256 is None:  # hashed as read, as prepare_file does
                    file.sha256 = start_hashing(file.path)
                keep_delivered(raw, delivered_folder(con))
                read_raw(con, raw)
                if raw.malformed_lines and kind != "episode_extract":
                    # its episode cannot be told from a line that does not split, and would
                    # load without the line's code
                    (row,) = con.execute(f"select min(source_row) from {raw.malformed}").fetchall()[
                        0
                    ]
                    raise UnusableInput(
                        f"{file.path}: row {row}: does not split into the header's columns; an "
                        "episode loads with all its codes or not at all, so this delivery is "
                        "refused: fix the line and deliver its files again"
                    )
            read.rows = sum(raw.rows_read for raw in raws)
        with stages("stage") as staging:
            if not any(raw.kind == "episode_diagnoses" for raw in raws):
                con.execute(sql("no_diagnosis_rows"))
            try:
                for name, query in LONG_VIEWS.items():
                    con.execute(f"create or replace temp view {name} as {sql(query)}")
                for name in LONG_STAGED.values():
                    con.execute(f"create or replace temp table {name} as {sql(name)}")
                for statement in LONG_COMPLETED_BY:
                    con.execute(sql(statement))
                con.execute(
                    "create or replace temp table stg_diagnoses_to_validate as "
                    + sql("stg_diagnoses_to_validate")
                )
            except duckdb.Error:
                for raw in raws:  # a damaged Parquet file is refused, as in prepare_file
                    if raw.file_format == "parquet":
                        check_parquet_data(con, raw)
                raise
            staging.rows = sum(_count(con, name) for name in LONG_STAGED.values())
        with stages("validate", rows=staging.rows):
            failures = {
                kind: failed_checks(con, table, contract)
                for table, (contract, kind) in LONG_CONTRACTS.items()
            }
            failures = _kept_out_with_episodes(con, failures, raws)
    except BaseException:
        for raw in raws:
            discard(con, raw)
        raise
    for raw in raws:
        drop_stage_input(con, raw)
    return [
        PreparedFile(raw, file.file_id, failures[raw.kind])
        for raw, file in zip(raws, files, strict=True)
    ]


def _kept_out_with_episodes(
    con: duckdb.DuckDBPyConnection, failures: dict[str, pl.DataFrame], raws: list[RawFile]
) -> dict[str, pl.DataFrame]:
    """Each file kind's failed checks, with the rows kept out by another file's: an
    episode with a quarantined code row, a code row whose episode is quarantined or not in
    the delivery."""
    names = {raw.kind: raw.path.name for raw in raws}
    for kind, name in (("episode_extract", "episode_failures"),
                       ("episode_procedures", "procedure_failures"),
                       ("episode_diagnoses", "diagnosis_failures")):  # fmt: skip
        con.register(name, failures[kind].select("source_row"))
    try:
        kept_out = con.sql(
            sql("load/kept_out_with_episodes"),
            params={
                "episodes_file": names["episode_extract"],
                "procedures_file": names["episode_procedures"],
                "diagnoses_file": names.get("episode_diagnoses"),
            },
        ).pl()
    finally:
        for name in ("episode_failures", "procedure_failures", "diagnosis_failures"):
            con.unregister(name)
    return {
        kind: pl.concat(
            [
                frame,
                kept_out.filter(pl.col("kind") == kind)
                .drop("kind")
                .with_columns(position=pl.lit(None, pl.Int32))
                .select(frame.columns)
                .cast(frame.schema),
            ]
        )
        for kind, frame in failures.items()
    }


def write_long(
    con: duckdb.DuckDBPyConnection,
    prepared: list[PreparedFile],
    files: list[LongFile],
    run_id: str,
    stages: Stages,
    turn: AbstractContextManager | None = None,
) -> list[FileResult]:
    """Quarantine each file's failed rows and load the rest, in one transaction, each file
    entered in the ledger, once `turn` is entered; on failure nothing is written and the
    kept copies deleted. The episodes file goes last: loaded_rows is then its."""
    digests = {file.file_id: file.sha256 for file in files}  # a digest, or its future
    ordered = sorted(prepared, key=lambda p: p.raw.kind == "episode_extract")
    writing = False
    try:
        with turn or nullcontext(), stages("load") as loading:
            con.begin()
            writing = True
            counts = {}
            for file in ordered:
                staged = LONG_STAGED[file.raw.kind]
                _quarantine(con, file.raw, file.file_id, file.failures, staged)
                counts[file.file_id] = (
                    _count(con, "loaded_rows"), _count(con, "quarantined_source_rows")
                )  # fmt: skip
            ids = {file.raw.kind: file.file_id for file in prepared}
            _replace_episodes(con, ids["episode_extract"], ids)
            results = []
            for file in prepared:
                unchanged = con.execute(
                    sql("load/unchanged_code_rows"), {"staged": LONG_STAGED[file.raw.kind]}
                ).fetchall()[0][0]
                digest = digests[file.file_id]
                digest = digest if isinstance(digest, str) else digest.result()
                results.append(
                    _enter_file(
                        con,
                        file.raw,
                        file.file_id,
                        run_id,
                        digest,
                        *counts[file.file_id],
                        unchanged,
                    )  # fmt: skip
                )
            loading.rows = sum(result.rows_loaded for result in results)
            con.commit()
            writing = False
    except BaseException:
        if writing:
            con.rollback()
        for file in prepared:
            discard(con, file.raw)
        raise
    return results


def _enter_file(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    file_id: int,
    run_id: str,
    digest: str,
    rows_loaded: int,
    rows_quarantined: int,
    rows_unchanged: int,
) -> FileResult:
    """Within the load's transaction, once its rows are written: check the file is as it
    was hashed and its counts reconcile, make its raw view and enter it in input_files and
    the ledger."""
    path = raw.path
    if raw.copying is not None:
        raw.copying.result()  # the kept copy is complete before the load commits
    if not unchanged_since_hashed(path, digest):
        raise StageFailed(
            f"{path.name}: changed while it was being loaded (not as it was when "
            "hashed); not loaded: the next run loads it"
        )
    if raw.copying is not None:
        _keep_one_copy(con, raw, digest)  # the copy is of `digest`: checked just now
    create_raw_view(con, raw)
    result = FileResult(
        file_id, raw.kind, path.name, raw.file_format, digest,
        raw.rows_read, rows_loaded, rows_quarantined, raw.malformed_lines, rows_unchanged,
    )  # fmt: skip
    if result.rows_read != result.rows_loaded + result.rows_quarantined:
        raise ReconciliationError(
            f"{path.name}: rows read {result.rows_read} != loaded {result.rows_loaded}"
            f" + quarantined {result.rows_quarantined}"
        )
    con.execute(
        "insert into input_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [file_id, run_id, raw.kind, path.name, str(path.resolve()), digest,
         raw.file_format, raw.raw_table, result.rows_read, rows_loaded, rows_quarantined,
         rows_unchanged],
    )  # fmt: skip
    con.execute(
        "insert into ledger values (?, ?, ?, ?, ?, ?, 'loaded', ?, null)",
        [run_id, utc_now(), path.name, str(path.resolve()), digest, raw.kind, file_id],
    )
    return result


def _keep_one_copy(con: duckdb.DuckDBPyConnection, raw: RawFile, sha256: str) -> None:
    """A file loaded again (--reload) keeps no second copy: its raw view reads the copy an
    earlier load of the same content kept, and the new copy goes. That copy is named after
    the earlier load, which input_files records, so recover_interrupted_runs keeps it, and a
    load that fails after this deletes nothing (raw.copying is done with)."""
    earlier = con.execute(
        sql("earlier_loads_of_content"),
        {"sha256": sha256, "file_kind": raw.kind, "file_format": raw.file_format},
    ).fetchall()
    for (raw_table,) in earlier:
        kept = raw.kept.with_name(raw_table + raw.kept.suffix)
        # not there if the warehouse moved without its folder: then the new copy stays
        if kept.is_file() and kept.stat().st_size == raw.kept.stat().st_size:
            copy, raw.kept, raw.copying = raw.kept, kept, None
            copy.unlink()
            return


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    file_id: int,
    failures: pl.DataFrame,
    staged: str,
) -> None:
    """Write failed checks and malformed lines to the quarantine table; make the temporary
    tables quarantined_source_rows and loaded_rows (source rows, and the episodes they
    carry)."""
    layout = raw.layout
    wide = layout is not None and layout.shape == "wide"
    procedures = layout.procedure_columns(raw.columns) if wide else {}
    dates = layout.date_columns(raw.columns) if wide else {}
    diagnoses = layout.diagnosis_columns(raw.columns) if wide else {}
    fields = THEATRE_FIELDS if layout is None else layout.source_fields(TABLE_OF_KIND[raw.kind])
    position, column = pl.col("position"), pl.col("column")
    if wide:  # a numbered column: the position's
        named = (
            pl.when(column == "procedure_code")
            .then(position.replace_strict(procedures, default=None, return_dtype=pl.String))
            .when(column == "procedure_date_text")
            .then(position.replace_strict(dates, default=None, return_dtype=pl.String))
            .when(column == "diagnosis_code_text")
            .then(position.replace_strict(diagnoses, default=None, return_dtype=pl.String))
            .otherwise(column.replace_strict(fields, default=column))
        )
    else:
        named = column.replace_strict(fields, default=column)
    # each field named as the file's header writes it (each part of a composite one)
    written = dict(zip(raw.columns, raw.written, strict=False))
    parts = named.str.split(" + ").list.eval(
        pl.element().replace_strict(written, default=pl.element())
    )
    failures = failures.with_columns(
        field=named.replace_strict(written, default=parts.list.join(" + "))
    )
    con.register("failures", failures)
    con.execute(
        sql("load/quarantine"),
        {"file_id": file_id, "file_name": raw.path.name, "staged": staged,
         "malformed": raw.malformed},
    )  # fmt: skip
    con.unregister("failures")
    _temp_table(con, "quarantined_source_rows", {"file_id": file_id})
    # The rows that load; the latest delivery of their episode replaces what the warehouse
    # held for it (a quarantined row replaces nothing).
    _temp_table(con, "loaded_rows", {"staged": staged})


def _replace_episodes(
    con: duckdb.DuckDBPyConnection, file_id: int, long_files: dict[str, int] | None = None
) -> None:
    """The latest delivery of an episode replaces its episode, procedure and diagnosis rows,
    unless the warehouse already holds it in the same version: then they and its assessments
    stay. A long delivery's codes come from its own files (`long_files`: kind -> file id)."""
    _temp_table(con, "unchanged_rows", query="unchanged_episode_rows")
    _temp_table(con, "replaced_rows")
    con.execute("delete from procedures where episode_id in (select episode_id from replaced_rows)")
    con.execute("delete from diagnoses where episode_id in (select episode_id from replaced_rows)")
    con.execute("delete from episodes where episode_id in (select episode_id from replaced_rows)")
    if long_files is None:
        con.execute(sql("load/procedures"), {"file_id": file_id})
        con.execute(sql("load/diagnoses"), {"file_id": file_id})
    else:
        con.execute(sql("load/procedure_rows"), {"file_id": long_files["episode_procedures"]})
        if "episode_diagnoses" in long_files:
            con.execute(sql("load/diagnosis_rows"), {"file_id": long_files["episode_diagnoses"]})
    con.execute(sql("load/episodes"), {"file_id": file_id})


def _replace_theatre_records(con: duckdb.DuckDBPyConnection, file_id: int) -> None:
    """The latest delivery of an episode's theatre records replaces the ones held, unless
    they are the same records: then they, and the episode's assessments, stay."""
    _temp_table(con, "replaced_episodes")
    _temp_table(con, "unchanged_rows", query="unchanged_theatre_rows")
    con.execute(
        "delete from theatre_records where episode_id in (select episode_id from replaced_episodes)"
    )
    con.execute(sql("load/theatre_records"), {"file_id": file_id})


def _temp_table(
    con: duckdb.DuckDBPyConnection, table: str, params: dict | None = None, query: str = ""
) -> None:
    """The temporary table `table`, this connection's own, from sql/load/<query or table>."""
    con.execute(
        f"create or replace temp table {table} as {sql('load/' + (query or table))}", params
    )


@dataclass(frozen=True)
class FileKind:
    """How one kind of input file loads: its staged tables (sql/, the first one row per
    source row), the statements (sql/) that complete them once stored, the contract each
    must meet (schemas/), and how its rows replace older ones."""

    staged: list[str]
    contracts: dict
    replace: Callable[[duckdb.DuckDBPyConnection, int], None]
    completed_by: tuple[str, ...] = ()
    views: dict = field(default_factory=dict)  # view -> the query (sql/) it is, staged from


FILE_KINDS = {
    "episode_extract": FileKind(
        staged=["stg_episodes", "stg_procedures", "stg_diagnoses", "stg_diagnoses_to_validate"],
        contracts={
            "stg_episodes": StagedEpisode,
            "stg_procedures": StagedProcedure,
            "stg_diagnoses_to_validate": StagedDiagnosis,
        },
        replace=_replace_episodes,
        completed_by=("stg_episodes_id_copies",),
        views={
            "procedure_positions": "procedure_positions",
            "diagnosis_positions": "diagnosis_positions",
        },
    ),
    "theatre_records": FileKind(
        staged=["stg_theatre_records"],
        contracts={"stg_theatre_records": StagedTheatreRecord},
        replace=_replace_theatre_records,
    ),
}
