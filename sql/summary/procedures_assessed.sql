-- The positions the run judged, by any rule: an (episode, position) judged by several rules
-- counts once.
select count(distinct (episode_id, position)) as procedures_assessed
from assessments
where run_id = $run_id
