-- Per rule and indication (episode_indications: why the episode's liver procedure was done,
-- from its diagnoses) of the report's position (the temp table position): the findings, how
-- many are compliant, how many need action. Indications in the order of
-- data/reference/liver_indications.csv, then none of these.
select
    position.rule_id,
    coalesce(episode_indications.indication, 'none_of_these') as indication,
    coalesce(any_value(liver_indications.rank)::integer, 99) as rank,
    count(*) as findings,
    count(*) filter (where position.compliant) as compliant,
    count(*) filter (where position.needs_action) as needing_action,
from position
left join episode_indications using (episode_id)
left join liver_indications using (indication)
group by all
order by position.rule_id, rank
