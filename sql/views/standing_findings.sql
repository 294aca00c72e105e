-- The standing position's findings (latest_assessments) with each finding's key and the
-- episode version it is about (the worklist writes the key; `liver-audit review` reads it
-- back), and the verdict in force on it: the latest read for that key, if any.
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
),

latest_verdicts as (
    select finding_key, verdict, comment, reviewer, reviewed_at,
    from verdicts
    qualify row_number() over (
        partition by finding_key order by read_at desc, worklist_sha256, sheet, sheet_row
    ) = 1
)

select
    keyed.*,
    latest_verdicts.verdict,
    latest_verdicts.comment as verdict_comment,
    latest_verdicts.reviewer,
    latest_verdicts.reviewed_at,
from keyed
left join latest_verdicts using (finding_key)
