import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Takes up to `limit` watchers of a topic, oldest first, and resumes their runs as
 * `markResumed` does (status running, waits cleared, suspension data = resume data):
 * one script, so each watcher is taken by exactly one caller. The resume data is the
 * watcher's data plus `payload`, `topic` and `deliveredAt`, assembled as JSON text from
 * the watcher's `watchResume` prefix. A finished run only loses its watcher. With
 * `retainFor` > 0, an event that resumed no run is kept (pushed onto the topic's event
 * list, which the server frees an hour after the last push's retention) for the next run to wait on it.
 *
 * KEYS: workflowWatchers(topic), workflowEvents(topic)
 * ARGV: workflowPrefix, limit, now, payloadJson, topicJson, retainFor
 * Returns { runId, stepName, resumeDataJson } per resumed run, in watcher order.
 */
export const resolveWorkflowWatchersScript = luaScript(
  "stemWfResolveWatchers",
  2,
  `${WORKFLOW_RUN}
local limit, now, payload, topic_json = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local retain_for = tonumber(ARGV[6])
local resolved = {}
local ids = {}
if limit >= 1 then ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1) end
for _, id in ipairs(ids) do
  local key = run_key(id)
  local run = load_run(key)
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
    save_run(key, run, old)
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
