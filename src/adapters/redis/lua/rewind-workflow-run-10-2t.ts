import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Rewinds a run to a step: deletes the first checkpoint whose base name is the step's
 * and every later one, sets the cursor to the distinct base names left, and applies the
 * rewound state (precomputed from the shared transition) even to a finished run.
 *
 * KEYS: workflowRun(id), workflowSteps(id), workflowStepData(id), the run indexes,
 *   waiting and watchers keys per topic
 * ARG: baseName, n, (field, value) * n, fields to delete...
 * Returns 1 when rewound, 0 when the run has no checkpoint of that step, -1 when there
 * is no such run, or the lacking-keys reply (lua/workflow-shared.ts).
 */
export const rewindWorkflowRunScript = luaScript(
  "stemWfRewindRun",
  "variable",
  `${workflowRunLua(3)}
local run = load_run(KEYS[1])
if not run then return -1 end
local target = ARG[1]
local names = redis.call('ZRANGE', KEYS[2], 0, -1)
local bases = {}
-- chunks keep unpack() well under Lua's stack limit
for from = 1, #names, 1000 do
  local fields = {}
  for i = from, math.min(from + 999, #names) do fields[#fields + 1] = 'b:' .. names[i] end
  local chunk = redis.call('HMGET', KEYS[3], unpack(fields))
  for j = 1, #fields do bases[from + j - 1] = chunk[j] end
end
local cut
for i = 1, #names do
  if bases[i] == target then
    cut = i
    break
  end
end
if not cut then return 0 end
local old = copy_run(run)
apply_patch(run, 2)
local lacking = lacking_keys({}, { old, run })
if lacking then return lacking end
local cursor = tonumber(old.cursor)
for i = cut, #names do
  local name, base = names[i], bases[i]
  redis.call('ZREM', KEYS[2], name)
  redis.call('HDEL', KEYS[3], 'v:' .. name, 't:' .. name, 'b:' .. name)
  if base and redis.call('HINCRBY', KEYS[3], 'n:' .. base, -1) <= 0 then
    redis.call('HDEL', KEYS[3], 'n:' .. base)
    cursor = cursor - 1
  end
end
run.cursor = tostring(cursor)
save_run(KEYS[1], run, old)
return 1
`,
);
