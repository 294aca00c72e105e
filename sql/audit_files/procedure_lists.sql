-- The worklist's coded procedure list of each episode it shows (worklist_episodes, registered
-- by worklist.py): its (position, code) pairs in position order.
select episode_id, list((position, procedure_code) order by position) as coded
from procedures
semi join worklist_episodes using (episode_id)
group by episode_id
