import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Takes up to `limit` watchers of a topic, oldest first, and resumes their runs as
 * `markResumed` does (status running, waits cleared, suspension data = resume data):
 * one script, so each watcher is taken by exactly one caller. The resume data is the
 * watcher's data plus `payload`, `topic` and `deliveredAt`, assembled as JSON text from
 * the watcher's `watchResume` prefix. A finished run only loses its watcher.
 *
 * KEYS: workflowWatchers(topic)
 * ARGV: workflowPrefix, limit, now, payloadJson, topicJson
 * Returns { runId, stepName, resumeDataJson } per resumed run, in watcher order.
 */
export const resolveWorkflowWatchersScript = luaScript(
  "stemWfResolveWatchers",
  1,
  `${WORKFLOW_RUN}
local limit, now, payload, topic_json = tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local resolved = {}
if limit < 1 then return resolved end
local ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
for _, id in ipairs(ids) do
  local key = run_key(id)
  local run = load_run(key)
  if not run or not run.watchTopic then
    redis.call('ZREM', KEYS[1], id)
  else
    local old = copy_run(run)
    local resume = run.watchResume
    if resume ~= '{' then resume = resume .. ',' end
    resume = resume .. '"payload":' .. payload .. ',"topic":' .. topic_json .. ',"deliveredAt":' .. now .. '}'
    local step = run.watchStep
    clear_watcher(run)
    if not FINISHED[run.status] then
      run.status = 'running'
      run.suspensionData = resume
      clear_waits(run)
      run.updatedAt = now
      resolved[#resolved + 1] = { id, step, resume }
    end
    save_run(key, run, old)
  end
end
return resolved
`,
);
