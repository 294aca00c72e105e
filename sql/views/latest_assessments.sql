-- One row per assessed procedure (rule, episode, position): its most recent assessment.
select *
from assessments
qualify row_number() over (
    partition by rule_id, episode_id, position order by run_id desc
) = 1
