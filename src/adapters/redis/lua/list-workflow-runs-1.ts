import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * A page of runs from a createdAt index, newest first (ties: greater id first),
 * optionally only those in one status.
 *
 * KEYS: the index (workflowRuns, workflowRunsOf(workflow) or workflowRunsIn(status))
 * ARGV: workflowPrefix, status ('' = any), offset, limit
 * Returns each run's HGETALL reply.
 */
export const listWorkflowRunsScript = luaScript(
  "stemWfListRuns",
  1,
  `${WORKFLOW_RUN}
local status, offset, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local page = {}
if limit < 1 then return page end
if status == '' then
  for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - 1)) do
    page[#page + 1] = redis.call('HGETALL', run_key(id))
  end
  return page
end
local skipped, start = 0, 0
while true do
  local ids = redis.call('ZREVRANGE', KEYS[1], start, start + 199)
  if #ids == 0 then return page end
  for _, id in ipairs(ids) do
    if redis.call('HGET', run_key(id), 'status') == status then
      if skipped < offset then
        skipped = skipped + 1
      else
        page[#page + 1] = redis.call('HGETALL', run_key(id))
        if #page >= limit then return page end
      end
    end
  end
  start = start + 200
end
`,
);
