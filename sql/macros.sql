-- Helpers for the HES quirks every staging query meets (HES TOS v1.15, APC sheet).

-- Text as delivered, trimmed; the missing-value spellings seen in extracts become null.
-- Written as one CASE of plain comparisons, not nested nullif(): each nullif repeats its
-- argument, so five nested ones expand to 32 copies of trim() wherever DuckDB cannot share
-- them (a filter pushed into a scan), and an IN list of five becomes a join per use. At 5M
-- rows this took stg_procedures from about 5.5 s to 2 s.
create or replace temp macro hes_text(value) as
    case
        when trim(value) = '' or trim(value) = 'NA' or trim(value) = 'NULL'
            or trim(value) = 'na' or trim(value) = 'null'
            then null
        else trim(value)
    end;

-- The plausible dates, set here only (README, Validation and quarantine): from 1900-01-01
-- to the end of the year after the run's. DuckDB reads year 0 and negative years
-- ('-024-05-01' is 25 BC) and up to year 294247; no episode has those dates, and they break
-- the month summaries and the write stage downstream.
create or replace temp macro hes_date_first() as '1900-01-01';
create or replace temp macro hes_date_last() as (year(current_date) + 1)::varchar || '-12-31';

-- A YYYY-MM-DD date. HES writes 1800-01-01 for null and 1801-01-01 for an invalid date
-- submitted: both load as null. Anything else that is not a real, plausible date is null
-- too, and the pandera contract quarantines the row (schemas/). (A length and dash test
-- plus a cast is several times faster than a regex and strptime.)
create or replace temp macro hes_date(date_text) as
    case
        when left(date_text, 10) in ('1800-01-01', '1801-01-01') then null
        -- compared as text, which orders as the dates do for the 4-digit years the length
        -- tests below leave; a sign ('-024', '+025') sorts before them all
        when left(date_text, 10) not between hes_date_first() and hes_date_last() then null
        when length(date_text) = 10 and date_text[5] = '-' and date_text[8] = '-'
            then try_cast(date_text as date)
        -- a Parquet timestamp column read as text: a date at midnight
        when length(date_text) = 19 and date_text[5] = '-' and date_text[8] = '-'
            and date_text[11:] = ' 00:00:00'
            then try_cast(left(date_text, 10) as date)
    end;

-- An OPCS-4 code as HES stores it: upper case, no dot or spaces, 4 characters; a local 5th
-- character is dropped (J0231 -> J023), as CDS requires before submission (NHS Data
-- Dictionary, OPCS-4 CODE: an4). Sentinels '-' and '&' pass through.
create or replace temp macro opcs4_code_4(code) as
    case when length(code) = 5 then left(code, 4) else code end;

create or replace temp macro opcs4_code(code_text) as
    opcs4_code_4(replace(replace(replace(upper(code_text), '.', ''), ' ', ''), chr(9), ''));

-- The rows of `codes` (procedures or diagnoses: one per episode, position and code) of the
-- episodes in scope of the code checks (episodes_in_scope), with liver_episode (one of the
-- episodes to assess): those of the episodes to assess and, with code_check_scope
-- all_episodes, every row the files to assess loaded (an episode's rows carry the file_id of
-- the file that delivered it, as the episode does). Found by file, not by joining every
-- episode of a national year: the table is scanned once, probing a handful of files and
-- liver episodes. Read by sql/procedures_in_scope.sql and sql/diagnoses_in_scope.sql.
create or replace temp macro codes_in_scope(codes) as table
    select *, true as liver_episode,
    from query_table(codes)
    semi join (
        -- (all_episodes: those a file to assess did not load, but whose theatre record it
        -- delivered)
        select episode_id from episodes_to_assess
        where (select code_check_scope from assessment_settings) <> 'all_episodes'
            or file_id not in (select file_id from files_to_assess)
    ) using (episode_id)

    union all

    select *, episode_id in (select episode_id from episodes_to_assess) as liver_episode,
    from query_table(codes)
    where (select code_check_scope from assessment_settings) = 'all_episodes'
        and file_id in (select file_id from files_to_assess);

-- A DD/MM/YYYY date (a layout whose dates are so written, liver_audit/layouts.py) as HES
-- writes dates, YYYY-MM-DD; any other text as it is, for hes_date and the checks to judge.
create or replace temp macro dmy_as_iso(date_text) as
    case
        when regexp_full_match(trim(date_text), '\d{1,2}/\d{1,2}/\d{4}')
            then string_split(trim(date_text), '/')[3] || '-'
                || lpad(string_split(trim(date_text), '/')[2], 2, '0') || '-'
                || lpad(string_split(trim(date_text), '/')[1], 2, '0')
        else date_text
    end;

-- The NHS financial year a date falls in, April to March: 2025-05-04 -> '2025-26'. Used to
-- partition exports (HES counts an episode in the year it ends).
create or replace temp macro financial_year(day) as
    coalesce(
        (year(day::date) - (month(day::date) < 4)::integer)::varchar || '-'
        || lpad(((year(day::date) - (month(day::date) < 4)::integer + 1) % 100)::varchar, 2, '0'),
        'unknown'
    );

-- A value made safe as a folder name (a Hive partition): letters, digits, '-' and '_' only.
create or replace temp macro partition_value(value) as
    coalesce(nullif(regexp_replace(value, '[^A-Za-z0-9_-]', '_', 'g'), ''), 'unknown');

-- The runs whose loads the audit files of run `run` report: itself, and the earlier runs it
-- took over because they failed or were killed before writing theirs
-- (warehouse/runs.py, take_over_unreported_runs).
create or replace temp macro reported_runs(run) as table
    select run as run_id union select run_id from runs where taken_over_by = run;

-- An OPCS-4 code as coders write it: J023 -> J02.3 (a 3-character category stays as it is).
create or replace temp macro opcs_dotted(code) as
    case when length(code) = 4 then left(code, 3) || '.' || right(code, 1) else code end;

-- A list of codes as coders write them, for a finding's message: 'Y71.4, Y75.2'.
create or replace temp macro opcs_dotted_list(codes) as
    array_to_string(list_transform(codes, lambda c: opcs_dotted(c)), ', ');

-- A theatre system's free-text approach as the synonym table holds it: trimmed, case-folded,
-- runs of white space as one space ('  Robot  converted ' -> 'robot converted').
create or replace temp macro approach_key(text) as
    lower(trim(regexp_replace(text, '\s+', ' ', 'g')));


-- Whether an episode is in what the report and worklist cover: the settings since, provider
-- and financial_year of its end (each null: not narrowed). sql/reports/position.sql and
-- changes_in_run.sql.
create or replace temp macro in_report_scope(provider_code, episode_end_date, since, provider, financial_year_of_end) as
    (since is null or episode_end_date >= since::date)
    and (provider is null or upper(provider_code) = upper(provider))
    and (financial_year_of_end is null or financial_year(episode_end_date) = financial_year_of_end);
