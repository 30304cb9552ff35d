import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Deletes up to `limit` completed, failed and cancelled runs last updated before
 * `before`, oldest update first, with their checkpoints and index entries; with dryRun, only counts them (all
 * of them). Candidates come from the per-status indexes by creation time (a run updated
 * before `before` was created before it).
 *
 * KEYS: workflowRuns
 * ARGV: workflowPrefix, before, limit, dryRun ('1' or '0')
 * Returns how many runs were (or would be) deleted.
 */
export const pruneWorkflowRunsScript = luaScript(
  "stemWfPruneRuns",
  1,
  `${WORKFLOW_RUN}
local before, limit, dry = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local found = {}
for status in pairs(FINISHED) do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', status_key(status), '-inf', '(' .. ARGV[2])) do
    local fields = redis.call('HMGET', run_key(id), 'updatedAt', 'workflow')
    local updated = tonumber(fields[1])
    if updated and updated < before then
      found[#found + 1] = { id = id, status = status, updated = updated, workflow = fields[2] }
    end
  end
end
if dry then return #found end
table.sort(found, function(a, b)
  if a.updated ~= b.updated then return a.updated < b.updated end
  return a.id < b.id
end)
local n = math.min(limit, #found)
for i = 1, n do
  local run = found[i]
  local key = run_key(run.id)
  redis.call('DEL', key, key .. ':steps', key .. ':step-data')
  redis.call('ZREM', status_key(run.status), run.id)
  redis.call('ZREM', KEYS[1], run.id)
  redis.call('ZREM', WF .. 'workflow:{' .. run.workflow .. '}', run.id)
end
return n
`,
);
