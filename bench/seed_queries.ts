// The seed's six example queries, copied verbatim from the seed
// (seed/automations-skill.md, "Example Queries"). Query 2's
// '<automation_id>' placeholder is replaced by a real id of the member's org.
export const SEED_QUERIES: ReadonlyArray<{ label: string; name: string; sql: string }> = [
  {
    label: "q1 active automations",
    name: "List all active automations for the current org:",
    sql: `SELECT id, name, trigger_type, trigger_config, last_run_at, run_count
FROM automations
WHERE status = 'active'
ORDER BY created_at DESC;
`,
  },
  {
    label: "q2 ordered actions",
    name: "Get the ordered action steps for a specific automation:",
    sql: `SELECT id, action_type, action_config, position
FROM automation_actions
WHERE automation_id = '<automation_id>'
ORDER BY position ASC;
`,
  },
  {
    label: "q3 last 50 runs",
    name: "Recent runs across all automations (last 50):",
    sql: `SELECT
r.id,
a.name AS automation_name,
r.status,
r.started_at,
r.completed_at,
r.error_message
FROM automation_runs r
JOIN automations a ON a.id = r.automation_id
ORDER BY r.started_at DESC
LIMIT 50;
`,
  },
  {
    label: "q4 failed runs, 7 days",
    name: "Failed runs in the last 7 days:",
    sql: `SELECT
r.id,
a.name AS automation_name,
r.error_message,
r.started_at,
r.result
FROM automation_runs r
JOIN automations a ON a.id = r.automation_id
WHERE r.status = 'failed'
AND r.started_at >= now() - interval '7 days'
ORDER BY r.started_at DESC;
`,
  },
  {
    label: "q5 action counts",
    name: "Automations with their action count:",
    sql: `SELECT
a.id,
a.name,
a.status,
a.trigger_type,
count(aa.id) AS action_count
FROM automations a
LEFT JOIN automation_actions aa ON aa.automation_id = a.id
GROUP BY a.id, a.name, a.status, a.trigger_type
ORDER BY a.name;
`,
  },
  {
    label: "q6 success rate per automation",
    name: "Run success rate per automation:",
    sql: `SELECT
a.name,
a.run_count,
count(r.id) FILTER (WHERE r.status = 'completed') AS succeeded,
count(r.id) FILTER (WHERE r.status = 'failed') AS failed
FROM automations a
LEFT JOIN automation_runs r ON r.automation_id = a.id
GROUP BY a.id, a.name, a.run_count
ORDER BY a.name;
`,
  },
];
