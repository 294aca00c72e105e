-- What one rule ($rule_id) judged that is recorded, with the rule's severity and
-- needs-action for each outcome: its query's rows (episode, position, code, outcome, codes
-- expected and found, message, standard), all of them for the episodes to assess and, outside
-- them (the code checks' scope all_episodes: episodes_in_scope), those that are not a pass:
-- a national year holds about 100 million codes, nearly all in force. assess.py puts the
-- rule's query (rules/<id>/query.sql) in the judged CTE; sql/findings.sql gives the rows
-- their shape.
with

judged as (
{rule_query}
)

select judged.*, rule_outcomes.severity, rule_outcomes.needs_action,
from judged
left join rule_outcomes
    on rule_outcomes.rule_id = $rule_id and rule_outcomes.outcome = judged.outcome
where rule_outcomes.severity is distinct from 'pass'
    or judged.episode_id in (select episode_id from episodes_to_assess)
