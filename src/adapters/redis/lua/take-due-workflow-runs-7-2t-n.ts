import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Takes the given candidate runs (read from the due index by the caller, earliest first)
 * that are still due at `now`: each is hidden until `redeliverAt` (offered again then
 * unless resumed or cancelled meanwhile) and loses its event watcher, so a late event
 * cannot resume it as well. A candidate that another caller took since it was read is
 * no longer due and is left alone, so two callers never take the same run. A due entry
 * whose run is gone or no longer suspended is dropped.
 *
 * KEYS: the run indexes, waiting and watchers keys per topic, workflowRun(id) per candidate
 * ARG: now, redeliverAt
 * Returns the ids taken, or the lacking-keys reply (lua/workflow-shared.ts).
 */
export const takeDueWorkflowRunsScript = luaScript(
  "stemWfTakeDueRuns",
  "variable",
  `${workflowRunLua(0)}
local now = tonumber(ARG[1])
local due, loaded = {}, {}
for _, id in ipairs(RUN_IDS) do
  local at = redis.call('ZSCORE', DUE_KEY, id)
  if at and tonumber(at) <= now then
    local run = load_run(RUN_KEY[id])
    due[#due + 1] = { id = id, run = run }
    if run and run.status == 'suspended' then loaded[#loaded + 1] = run end
  end
end
local lacking = lacking_keys({}, loaded)
if lacking then return lacking end
local taken = {}
for _, candidate in ipairs(due) do
  local id, run = candidate.id, candidate.run
  if not run or run.status ~= 'suspended' then
    redis.call('ZREM', DUE_KEY, id)
  else
    local old = copy_run(run)
    run.dueAt = ARG[2]
    clear_watcher(run)
    save_run(RUN_KEY[id], run, old)
    taken[#taken + 1] = id
  end
end
return taken
`,
);
