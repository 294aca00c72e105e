-- Each row of a returned worklist that carries a verdict or comment (returned_rows,
-- registered by review.py: sheet, sheet_row, finding_key, verdict, comment), with the finding
-- it is about and what is wrong with it, if anything: an edited key (its check digits do
-- not match), a key of no current finding (its episode re-delivered with changes, or
-- re-assessed with another outcome, since the worklist was written: the verdict does not
-- carry over), no verdict (a comment alone), or a verdict not in the list for its finding
-- (verdict_kinds: one list for findings needing action, one for the compliant sample).
with

choices as (
    select given_to, string_agg(verdict, ', ' order by verdict) as listed, list(verdict) as verdicts,
    from verdict_kinds
    group by given_to
)

select
    returned_rows.sheet,
    returned_rows.sheet_row,
    returned_rows.finding_key,
    returned_rows.verdict,
    returned_rows.comment,
    standing_findings.rule_id,
    standing_findings.episode_id,
    standing_findings.position,
    standing_findings.outcome,
    standing_findings.episode_version,
    case
        when not coalesce(regexp_full_match(returned_rows.finding_key, '[0-9a-f]{16}-[0-9a-f]{4}'), false)
            or finding_key_check(left(returned_rows.finding_key, 16)) <> right(returned_rows.finding_key, 4)
            then 'its finding key was edited'
        when standing_findings.finding_key is null
            then 'its finding key matches no current finding: the episode was re-delivered or re-assessed since (the verdict does not carry over), or the key is not from this warehouse'
        when returned_rows.verdict is null
            then 'a comment without a verdict: choose one from the list'
        when not list_contains(choices.verdicts, returned_rows.verdict)
            then 'verdict must be one of ' || choices.listed
    end as problem,
from returned_rows
left join standing_findings using (finding_key)
left join choices
    on choices.given_to = if(standing_findings.severity = 'pass', 'compliant', 'needing action')
order by returned_rows.sheet, returned_rows.sheet_row
