-- The standing position's findings (latest_assessments) with each finding's key and the
-- episode version it is about (the worklist writes the key; `liver-audit review` reads it
-- back), and the verdict in force on it (current_verdicts), if any.
with

keyed as (
    select
        latest_assessments.*,
        episodes.version_hash as episode_version,
        finding_key(
            latest_assessments.rule_id, latest_assessments.episode_id,
            latest_assessments.position, latest_assessments.outcome, episodes.version_hash
        ) as finding_key,
    from latest_assessments
    inner join episodes using (episode_id)
)

select
    keyed.*,
    current_verdicts.verdict,
    current_verdicts.comment as verdict_comment,
    current_verdicts.reviewer,
    current_verdicts.reviewed_at,
from keyed
left join current_verdicts using (finding_key)
