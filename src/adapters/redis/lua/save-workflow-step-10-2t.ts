import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Saves (or overwrites) a checkpoint and bumps the run's updatedAt and cursor. A new
 * name goes after the last position; the cursor counts distinct base names (`step#0`
 * and `step#1` have the base `step`), kept as per-base counters in the step data.
 *
 * KEYS: workflowRun(id), workflowSteps(id), workflowStepData(id), the run indexes,
 *   waiting and watchers keys per topic
 * ARG: name, valueJson, now, baseName, fence ('' = not fenced)
 * Returns 1, -1 when there is no such run, -2 when the fence is stale (nothing saved), or
 * the lacking-keys reply (lua/workflow-shared.ts).
 */
export const saveWorkflowStepScript = luaScript(
  "stemWfSaveStep",
  "variable",
  `${workflowRunLua(3)}
local run = load_run(KEYS[1])
if not run then return -1 end
if fenced(run, ARG[5]) then return -2 end
local lacking = lacking_keys({}, { run })
if lacking then return lacking end
local old = copy_run(run)
local name, value, now, base = ARG[1], ARG[2], ARG[3], ARG[4]
if redis.call('HEXISTS', KEYS[3], 'v:' .. name) == 0 then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  local position = 0
  if #last > 0 then position = tonumber(last[2]) + 1 end
  redis.call('ZADD', KEYS[2], position, name)
  redis.call('HSET', KEYS[3], 'b:' .. name, base)
  if redis.call('HINCRBY', KEYS[3], 'n:' .. base, 1) == 1 then
    run.cursor = tostring(tonumber(run.cursor) + 1)
  end
end
redis.call('HSET', KEYS[3], 'v:' .. name, value, 't:' .. name, now)
run.updatedAt = now
save_run(KEYS[1], run, old)
return 1
`,
);
