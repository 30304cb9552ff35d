import { luaScript } from "../scripts.ts";
import { WORKFLOW_STATUSES, WORKFLOW_STATUSES_LUA } from "./workflow-shared.ts";

/**
 * Deletes finished runs with their checkpoints and index entries. The caller passes
 * candidates (completed, failed or cancelled runs it found last updated before `before`);
 * each is checked again here, and one that is no longer finished, was updated since or
 * is another workflow's is left alone.
 *
 * KEYS: workflowRuns, workflowRunsIn(status) per status (WORKFLOW_STATUSES order), then
 *   per candidate workflowRun(id), workflowSteps(id), workflowStepData(id),
 *   workflowRunsOf(workflow)
 * ARGV: before, then (id, workflow) per candidate, in the order of their keys
 * Returns how many runs were deleted.
 */
export const pruneWorkflowRunsScript = luaScript(
  "stemWfPruneRuns",
  "variable",
  `
local FINISHED = { completed = true, failed = true, cancelled = true }
local STATUS_KEY = {}
for i, status in ipairs({ ${WORKFLOW_STATUSES_LUA} }) do STATUS_KEY[status] = KEYS[1 + i] end
local base = 1 + ${WORKFLOW_STATUSES.length}
local before = tonumber(ARGV[1])
local deleted = 0
for i = 1, (#ARGV - 1) / 2 do
  local id, workflow = ARGV[2 * i], ARGV[2 * i + 1]
  local k = base + 4 * (i - 1)
  local fields = redis.call('HMGET', KEYS[k + 1], 'status', 'updatedAt', 'workflow')
  local updated = tonumber(fields[2])
  if FINISHED[fields[1]] and updated and updated < before and fields[3] == workflow then
    redis.call('DEL', KEYS[k + 1], KEYS[k + 2], KEYS[k + 3])
    redis.call('ZREM', STATUS_KEY[fields[1]], id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[k + 4], id)
    deleted = deleted + 1
  end
end
return deleted
`,
);
