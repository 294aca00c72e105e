-- The report's and worklist's findings: the standing position (standing_findings: the latest
-- assessment of every episode held, with its key and the verdict in force), narrowed by the
-- settings since, provider and financial_year of the episode's end (null: not narrowed);
-- each with its period, whether it is open (needs action, no verdict yet), and whether it is
-- in the sample of compliant findings put to the auditors: $compliant_sample percent, drawn
-- by the finding's key and $sample_seed, so a finding stays in (or out of) the sample from
-- run to run until its episode changes.
select
    standing_findings.*,
    financial_year(episode_end_date) as financial_year,
    case when episode_end_date is not null then financial_year(episode_end_date) || ' Q'
        || ((month(episode_end_date) + 8) % 12 // 3 + 1)::varchar else 'unknown' end as quarter,
    severity = 'pass' as compliant,
    verdict is not null as reviewed,
    needs_action and verdict is null as open,
    severity = 'pass' and verdict is null
        and ('0x' || left(md5(finding_key || ':' || $sample_seed::varchar), 8))::ubigint
            < $compliant_sample / 100 * 4294967296 as in_compliant_sample,
from standing_findings
where in_report_scope(provider_code, episode_end_date, $since, $provider, $financial_year)
