// create_task: insert a task into public.tasks, the Skene tasks module's table
// (title, description, status task_status default 'todo', priority
// task_priority low/medium/high/urgent default 'medium', assignee_id and
// creator_id → users, due_at, metadata). The module is optional: without the
// table the step fails and says how to fix it.
//
// A retried step must not create a second task (the worker may die after the
// insert and before the step is recorded), so the step's idempotency key is
// stored in metadata.automation and looked up before inserting.
//
// The insert runs as the automation's acting member under RLS (ctx.asMember
// through withRunCause): a member who may not insert tasks fails the step.
import { withRunCause } from "./run_cause.ts";
import { z } from "zod";
import { publicTable, type TableInfo } from "./catalog.ts";
import { dbActionError } from "./db_errors.ts";
import { resolved, templated } from "./schema.ts";
import { ActionError, type ActionContext, type ActionDefinition } from "../engine/action_contract.ts";

export const TASK_PRIORITIES = ["low", "medium", "high", "urgent"] as const;
const MISSING = "table public.tasks does not exist: install the tasks module (see docs)";

export const createTaskConfigSchema = z.strictObject({
  title: z.string().trim().min(1, "title must not be empty").max(500),
  description: z.string().max(10_000).nullable().optional(),
  /** A user of the run's org; null leaves the task unassigned. */
  assignee_id: templated(z.uuid().nullable()).optional(),
  /** ISO 8601 date or date-time with offset ("2026-03-01" or "2026-03-01T09:00:00Z"). */
  due_at: templated(z.union([z.iso.datetime({ offset: true }), z.iso.date()]).nullable()).optional(),
  /** Omitted: the table's default (medium in the Skene module). */
  priority: templated(z.enum(TASK_PRIORITIES)).optional(),
});

export type CreateTaskConfig = z.infer<typeof createTaskConfigSchema>;

interface TaskRow {
  task: Record<string, unknown>;
}

const RETURNING = "returning to_jsonb(t.*) as task";

async function tasksTable(ctx: ActionContext): Promise<TableInfo> {
  const info = await publicTable(ctx.db, "tasks");
  if (!info) throw new ActionError("missing_table", MISSING);
  for (const col of ["org_id", "title"]) {
    if (!info.columns.has(col)) throw new ActionError("missing_table", `public.tasks has no ${col} column: ${MISSING}`);
  }
  return info;
}

async function checkAssignee(ctx: ActionContext, assignee: string): Promise<void> {
  const rows = await ctx.db.query("select 1 from public.users where id = $1 and org_id = $2", [assignee, ctx.orgId]);
  if (rows.length === 0) {
    throw new ActionError("invalid_assignee", `assignee_id ${assignee} is not a user of this organization`);
  }
}

function output(task: Record<string, unknown>, reused: boolean) {
  const pick = ["title", "description", "status", "priority", "assignee_id", "due_at"] as const;
  const out: Record<string, unknown> = { task_id: task.id };
  for (const k of pick) if (k in task) out[k] = task[k];
  if (reused) out.reused = true;
  return out;
}

export const createTaskAction: ActionDefinition<CreateTaskConfig> = {
  type: "create_task",
  description: "Create a task in public.tasks (the tasks module) for the run's org.",
  schema: createTaskConfigSchema,
  preview: (c) => ({
    table: "public.tasks",
    title: c.title,
    description: c.description ?? null,
    assignee_id: c.assignee_id ?? null,
    due_at: c.due_at ?? null,
    priority: c.priority ?? "the table's default",
  }),
  async execute(config, ctx) {
    const assignee = config.assignee_id === undefined ? undefined : resolved(config.assignee_id, "assignee_id");
    const dueAt = config.due_at === undefined ? undefined : resolved(config.due_at, "due_at");
    const priority = config.priority === undefined ? undefined : resolved(config.priority, "priority");
    try {
      const info = await tasksTable(ctx);
      const hasMetadata = info.columns.get("metadata")?.type === "jsonb";

      if (hasMetadata) {
        const [existing] = await ctx.db.query<TaskRow>(
          `select to_jsonb(t.*) as task from public.tasks t
            where t.org_id = $1 and t.metadata -> 'automation' ->> 'idempotency_key' = $2
            limit 1`,
          [ctx.orgId, ctx.idempotencyKey],
        );
        if (existing) return { output: output(existing.task, true) };
      }
      if (assignee) await checkAssignee(ctx, assignee);

      // Fixed column names (never user input); only the ones given are set,
      // so the table's defaults apply to the rest. Values travel as one jsonb
      // document converted by jsonb_populate_record, i.e. by PostgreSQL's own
      // input rules for each column type: a driver must not reinterpret them
      // (postgres.js would turn "2026-02-30" into a JS Date of March 2).
      const values: Record<string, unknown> = { org_id: ctx.orgId, title: config.title };
      const given = { description: config.description, assignee_id: assignee, due_at: dueAt, priority };
      for (const [col, v] of Object.entries(given)) if (v !== undefined && info.columns.has(col)) values[col] = v;
      if (hasMetadata) {
        values.metadata = {
          automation: { automation_id: ctx.automationId, run_id: ctx.runId, step_index: ctx.stepIndex, idempotency_key: ctx.idempotencyKey },
        };
      }
      const cols = Object.keys(values);
      const exprs = cols.map((c) => `r.${c}`);
      const params: unknown[] = [JSON.stringify(values)];
      if (info.columns.has("creator_id")) {
        // Attribute the task to whoever created the automation, when known.
        cols.push("creator_id");
        exprs.push("(select a.creator_id from public.automations a where a.id = $2 and a.org_id = $3)");
        params.push(ctx.automationId, ctx.orgId);
      }
      const [row] = await withRunCause(ctx, (db) => db.query<TaskRow>(
        `insert into public.tasks as t (${cols.join(", ")})
         select ${exprs.join(", ")} from jsonb_populate_record(null::public.tasks, $1::jsonb) r
         ${RETURNING}`,
        params,
      ));
      ctx.logger.debug("create_task", { taskId: row!.task.id, runId: ctx.runId });
      return { output: output(row!.task, false) };
    } catch (e) {
      throw dbActionError(e, "cannot create task");
    }
  },
};
