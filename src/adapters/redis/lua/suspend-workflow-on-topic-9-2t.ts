import { luaScript } from "../scripts.ts";
import { workflowRunLua } from "./workflow-shared.ts";

/**
 * Suspends a run on a topic with its watcher (the fields precomputed from the shared
 * transition) unless it is finished. When an event kept for the topic is waiting, the
 * oldest one is taken in the same step and resolves the new watcher at once, as
 * resolveWatchers would.
 *
 * KEYS: workflowRun(id), workflowEvents(topic), the run indexes, waiting and watchers
 *   keys per topic
 * ARG: fence ('' = not fenced), now, topicJson, n, (field, value) * n, fields to delete...
 * Returns 1 when suspended, 0 when the run is finished, -1 when there is no such run,
 * -2 when the fence is stale, the resume data JSON when a kept event resumed it, or the
 * lacking-keys reply (lua/workflow-shared.ts).
 */
export const suspendWorkflowOnTopicScript = luaScript(
  "stemWfSuspendOnTopic",
  "variable",
  `${workflowRunLua(2)}
local run = load_run(KEYS[1])
if not run then return -1 end
if fenced(run, ARG[1]) then return -2 end
if FINISHED[run.status] then return 0 end
local old = copy_run(run)
apply_patch(run, 4)
local lacking = lacking_keys({}, { old, run })
if lacking then return lacking end
local payload = take_event(KEYS[2], ARG[2])
local reply = 1
if payload then
  local _, resume = resolve_watcher(run, payload, ARG[3], ARG[2])
  reply = resume
end
save_run(KEYS[1], run, old)
return reply
`,
);
