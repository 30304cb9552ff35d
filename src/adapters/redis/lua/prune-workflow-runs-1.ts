import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Deletes up to `limit` completed, failed and cancelled runs last updated before
 * `before`, with their checkpoints and index entries; with dryRun, only counts them (all
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
local n = 0
for status in pairs(FINISHED) do
  local ids = redis.call('ZRANGEBYSCORE', status_key(status), '-inf', '(' .. ARGV[2])
  for _, id in ipairs(ids) do
    if not dry and n >= limit then return n end
    local key = run_key(id)
    local fields = redis.call('HMGET', key, 'updatedAt', 'workflow')
    if fields[1] and tonumber(fields[1]) < before then
      n = n + 1
      if not dry then
        redis.call('DEL', key, key .. ':steps', key .. ':step-data')
        redis.call('ZREM', status_key(status), id)
        redis.call('ZREM', KEYS[1], id)
        redis.call('ZREM', WF .. 'workflow:{' .. fields[2] .. '}', id)
      end
    end
  end
end
return n
`,
);
