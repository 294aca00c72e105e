-- The procedure positions the run judged, by any rule that assesses procedures: an
-- (episode, position) judged by several rules counts once.
select count(distinct (episode_id, position)) as procedures_assessed
from assessments
where run_id = $run_id
    and rule_id in (select rule_id from rule_catalogue where assesses = 'procedures')
