import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Takes up to `limit` watchers of a topic, oldest first, and resumes their runs as
 * `markResumed` does (status running, waits cleared, suspension data = resume data):
 * one script, so each watcher is taken by exactly one caller. The resume data is the
 * watcher's data plus `payload`, `topic` and `deliveredAt`, assembled as JSON text from
 * the watcher's `watchResume` prefix. A finished run only loses its watcher. With
 * `retainFor` > 0, an event that resumed no run is kept (pushed onto the topic's event
 * list, which the server frees an hour after the last push's retention) for the next run to wait on it.
 * The watchers taken are those first in the index when the script runs: when the caller
 * did not give the key of one of them, nothing is done and the lacking-keys reply names it.
 *
 * KEYS: workflowWatchers(topic), workflowEvents(topic), the run indexes, waiting and
 *   watchers keys per topic, workflowRun(id) per run id
 * ARG: limit, now, payloadJson, topicJson, retainFor
 * Returns { runId, stepName, resumeDataJson } per resumed run, in watcher order, or the
 * lacking-keys reply (lua/workflow-shared.ts).
 */
export const resolveWorkflowWatchersScript = luaScript(
  "stemWfResolveWatchers",
  "variable",
  `${workflowRunLua(2)}
local limit, now, payload, topic_json = tonumber(ARG[1]), ARG[2], ARG[3], ARG[4]
local retain_for = tonumber(ARG[5])
local ids = {}
if limit >= 1 then ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1) end
local runs, loaded = {}, {}
for _, id in ipairs(ids) do
  if RUN_KEY[id] then
    runs[id] = load_run(RUN_KEY[id])
    loaded[#loaded + 1] = runs[id]
  end
end
local lacking = lacking_keys(ids, loaded)
if lacking then return lacking end
local resolved = {}
for _, id in ipairs(ids) do
  local run = runs[id]
  if not run or not run.watchTopic then
    redis.call('ZREM', KEYS[1], id)
  else
    local old = copy_run(run)
    if FINISHED[run.status] then
      clear_watcher(run)
    else
      local step, resume = resolve_watcher(run, payload, topic_json, now)
      resolved[#resolved + 1] = { id, step, resume }
    end
    save_run(RUN_KEY[id], run, old)
  end
end
if #resolved == 0 and retain_for > 0 then
  redis.call('RPUSH', KEYS[2], tostring(tonumber(now) + retain_for) .. ':' .. payload)
  -- An hour's margin: the store's clock decides expiry, the server's only frees memory.
  redis.call('PEXPIRE', KEYS[2], retain_for + 3600000)
end
return resolved
`,
);
