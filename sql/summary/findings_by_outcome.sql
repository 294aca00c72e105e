-- The run's findings by rule and outcome (outputs.rule_summaries adds the outcomes with none).
select rule_id, outcome, count(*) as findings
from assessments
where run_id = $run_id
group by all
