import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * A page of running runs that no one holds a live lease on, oldest update first
 * (ties: smaller id first).
 *
 * KEYS: workflowRunning
 * ARGV: workflowPrefix, now, offset, limit
 * Returns each run's HGETALL reply.
 */
export const listRunnableWorkflowRunsScript = luaScript(
  "stemWfListRunnable",
  1,
  `${WORKFLOW_RUN}
local now, offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local page = {}
if limit < 1 then return page end
local skipped, start = 0, 0
while true do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 199)
  if #ids == 0 then return page end
  for _, id in ipairs(ids) do
    local key = run_key(id)
    local lease = redis.call('HMGET', key, 'ownerId', 'leaseExpiresAt')
    local held = lease[1] and lease[2] and tonumber(lease[2]) > now
    if not held then
      if skipped < offset then
        skipped = skipped + 1
      else
        page[#page + 1] = redis.call('HGETALL', key)
        if #page >= limit then return page end
      end
    end
  end
  start = start + 200
end
`,
);
