import { luaScript } from "../scripts.ts";

/**
 * One step of listing runs: of the given runs (candidates the caller read from an
 * index, in list order), those that exist and pass a filter, skipping the first `skip`
 * that pass and stopping at `limit`. One script, so each run is read whole at one moment.
 *
 * KEYS: workflowRun(id) per candidate
 * ARGV: filter ('' = any, 'status' = in status `value`, 'runnable' = no live lease at
 *   time `value`), value, skip, limit
 * Returns { how many passing runs were skipped, { HGETALL reply per run listed } }.
 */
export const listWorkflowRunsScript = luaScript(
  "stemWfListRuns",
  "variable",
  `
local filter, value = ARGV[1], ARGV[2]
local skip, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local skipped, page = 0, {}
for _, key in ipairs(KEYS) do
  if #page >= limit then break end
  local pass
  if filter == 'status' then
    pass = redis.call('HGET', key, 'status') == value
  elseif filter == 'runnable' then
    local lease = redis.call('HMGET', key, 'id', 'ownerId', 'leaseExpiresAt')
    pass = lease[1] and not (lease[2] and lease[3] and tonumber(lease[3]) > tonumber(value))
  else
    pass = redis.call('EXISTS', key) == 1
  end
  if pass then
    if skipped < skip then
      skipped = skipped + 1
    else
      page[#page + 1] = redis.call('HGETALL', key)
    end
  end
end
return { skipped, page }
`,
);
