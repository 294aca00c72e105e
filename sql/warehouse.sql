-- The warehouse's tables. Idempotent: run on every connection that writes.
-- Sensitive: episodes, procedures, diagnoses, theatre_records, quarantine and assessments hold
-- episode-level rows; runs and input_files hold counts and file names only.

create sequence if not exists input_file_ids start 1;

-- Facts about the warehouse itself, e.g. the schema version liver-audit wrote it with.
create table if not exists warehouse_info (key varchar primary key, value varchar);

-- One row per run of the pipeline.
create table if not exists runs (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    status varchar,                 -- running, completed, failed
    catalogue_version varchar,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    procedures_assessed bigint,
    summary json,                   -- counts only: the run's summary.json
    error varchar,                  -- why a failed run failed: file, stage, error type
    -- the folder of the run's complete audit files, set once they are all written
    audit_files varchar,
    -- the later run whose audit files report what this run loaded, because this one failed
    -- or was killed before it wrote its own (flows/audit.py, take_over)
    taken_over_by varchar
);

-- One row per (run, rule, outcome): the run's finding counts, kept with the run.
create table if not exists run_outcomes (
    run_id varchar,
    rule_id varchar,
    outcome varchar,
    findings bigint,
    severity varchar,               -- the outcome's, when the run judged (pass = compliant)
    needs_action boolean
);

-- One row per timed stage of a run: read, stage, validate and load per input file, then
-- assess, summarise and write for the run. A failed stage names its error's type only.
create table if not exists run_stages (
    run_id varchar,
    stage varchar,
    file_name varchar,              -- the input file, for the per-file stages
    started_at timestamp,           -- UTC
    seconds double,
    rows bigint,
    status varchar,                 -- completed or failed
    error varchar,
    worker varchar                  -- fan-out: who prepared the file
);

-- One row per input file a run read.
create table if not exists input_files (
    file_id bigint primary key,
    run_id varchar,
    file_kind varchar,              -- episode_extract or theatre_records
    file_name varchar,
    file_path varchar,
    sha256 varchar,
    file_format varchar,            -- pipe, comma, tab or parquet
    raw_table varchar,              -- the file as delivered, every column as text
    rows_read bigint,
    rows_loaded bigint,             -- including rows_unchanged
    rows_quarantined bigint,
    rows_unchanged bigint           -- loaded rows the warehouse already held in that version
);

-- The inbox ledger: one row per file a run saw, by content hash. A file whose content was
-- loaded before is skipped; `loaded` rows are written in the file's load transaction, so
-- they always match input_files.
create table if not exists ledger (
    run_id varchar,
    seen_at timestamp,              -- UTC
    file_name varchar,
    file_path varchar,
    sha256 varchar,
    file_kind varchar,
    action varchar,                 -- loaded, skipped (content loaded before) or refused
    file_id bigint,                 -- loaded: the load; skipped: the earlier load
    reason varchar                  -- skipped or refused: why (file, row, field; never values)
);

-- One row per loaded file whose episodes a run has assessed; a loaded file not here (its
-- run was interrupted before assessing) is assessed by the next run.
create table if not exists assessed_files (
    file_id bigint,
    run_id varchar
);

-- One row per run that assessed: whose codes its OPCS-4 and ICD-10 code checks judged (the
-- setting code_check_scope) and how many. Outside the episodes to assess a pass is not
-- recorded (sql/findings.sql), so these counts say what the checks covered.
create table if not exists code_checks (
    run_id varchar,
    code_check_scope varchar,       -- liver_episodes or all_episodes
    episodes bigint,                -- episodes whose codes were checked
    liver_episodes bigint,          -- of them, the episodes to assess (every finding recorded)
    procedure_codes bigint,
    diagnosis_codes bigint
);

-- One row per episode (finished consultant episode); the latest delivery wins.
create table if not exists episodes (
    episode_id varchar not null,
    file_id bigint,
    source_row bigint,
    provider_code varchar,
    admission_date date,
    episode_start_date date,
    episode_end_date date,
    sex varchar,
    start_age integer,
    primary_diagnosis_code varchar,
    version_hash ubigint            -- of the delivered fields the rules read: unchanged = same
);

-- One row per (episode, position, code); position = the source column's number.
-- episode_id uncompressed in the long tables: compressing a national year's random ids took
-- more than half of writing its 80 million diagnoses (bench/README.md), for a file 2.4 times
-- smaller.
create table if not exists procedures (
    episode_id varchar not null using compression uncompressed,
    position integer not null,
    procedure_code varchar not null,
    procedure_date date,
    file_id bigint
);

-- One row per (episode, position, ICD-10 code); position = the source column's number (DIAG_4_nn
-- or DIAG_nn). diagnosis_code as HES's 4-character fields hold it (C787, C20X); what a full
-- code had past its 4th character (a 5th character; HES's R69X6) in diagnosis_detail; a
-- dagger or asterisk mark in mark. The view diagnoses adds titles and HES's sentinels.
create table if not exists diagnoses (
    episode_id varchar not null using compression uncompressed,
    position integer not null,
    diagnosis_code varchar not null,
    diagnosis_detail varchar,
    mark varchar,
    file_id bigint
);

-- One row per theatre record; approach is null when the free text is not in the synonym table.
create table if not exists theatre_records (
    episode_id varchar not null,
    operation_date date,
    approach_text varchar,
    approach varchar,
    file_id bigint,
    source_row bigint
);

-- One row per (input row, reason, field): why that row was not loaded.
create table if not exists quarantine (
    file_id bigint,
    source_file varchar,
    source_row bigint,
    episode_id varchar,
    reason varchar,
    field varchar,
    value varchar
);

-- One row per finding: per (run, rule, assessed procedure or episode), in the one shape every
-- rule's findings share (sql/findings.sql, schemas/assessments.py).
create table if not exists assessments (
    run_id varchar not null,
    rule_id varchar not null,
    catalogue_version varchar,      -- the catalogue that judged it (rule folders' hash)
    episode_id varchar not null,
    position integer not null,      -- of the assessed code
    procedure_code varchar not null,
    outcome varchar not null,       -- one of the rule's outcomes (rule_outcomes)
    severity varchar,               -- pass, info, warning, error
    needs_action boolean,
    expected_codes varchar,         -- space separated, as in HES
    found_codes varchar,
    standard varchar,               -- the standard(s) the finding follows, e.g. PCSY6
    opcs_version varchar,           -- in force on its date (setting opcs_version_date)
    message varchar,                -- one line a coder can act on
    provider_code varchar,
    admission_date date,
    episode_start_date date,
    episode_end_date date,
    procedure_date date
);

-- One row per auditor's verdict read back from a returned worklist (`liver-audit review`):
-- the finding's key and what it was about, the episode version it was given on, the
-- verdict and comment, who gave it and when (the workbook's metadata, or --reviewer), and
-- where it was read (file, sheet, row). A later verdict on the same key supersedes.
create table if not exists verdicts (
    finding_key varchar not null,
    rule_id varchar,
    episode_id varchar,
    position integer,
    outcome varchar,
    episode_version ubigint,
    verdict varchar not null,
    comment varchar,
    reviewer varchar,
    reviewed_at timestamp,
    worklist_sha256 varchar not null,
    sheet varchar,
    sheet_row integer,
    read_at timestamp
);

-- One row per returned worklist read: its content's hash (the same file twice changes
-- nothing), name, kept copy and counts.
create table if not exists returned_worklists (
    sha256 varchar primary key,
    file_name varchar,
    kept_copy varchar,
    read_at timestamp,
    rows_with_verdict bigint,
    verdicts_loaded bigint,
    rows_refused bigint
);

-- A finding's key (kept in the warehouse, not per connection: the views and analysts' read-only
-- sessions use it), as the worklist carries it (hidden) and `liver-audit review` reads it back:
-- 16 hex digits of a hash of what the finding is about, in the episode's delivered version
-- (a re-delivery that changes the episode gives its findings new keys: an old verdict does
-- not carry over), then '-' and 4 check digits, so that an edited key is told from an
-- unknown one.
create or replace macro finding_key_body(rule_id, episode_id, position, outcome, version) as
    left(sha256(concat_ws('|', rule_id, episode_id, position::varchar, outcome, version::varchar)), 16);
create or replace macro finding_key_check(body) as left(sha256('check ' || body), 4);
create or replace macro finding_key(rule_id, episode_id, position, outcome, version) as
    finding_key_body(rule_id, episode_id, position, outcome, version) || '-'
    || finding_key_check(finding_key_body(rule_id, episode_id, position, outcome, version));
