import { luaScript } from "../scripts.ts";
import { WORKFLOW_RUN } from "./workflow-shared.ts";

/**
 * Every watcher of a topic, oldest first (ties: smaller run id first).
 *
 * KEYS: workflowWatchers(topic)
 * ARGV: workflowPrefix
 * Returns { runId, watchStep, watchTopic, watchData, watchCreatedAt, watchDeadline } each.
 */
export const listWorkflowWatchersScript = luaScript(
  "stemWfListWatchers",
  1,
  `${WORKFLOW_RUN}
local watchers = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local w = redis.call('HMGET', run_key(id), 'watchStep', 'watchTopic', 'watchData', 'watchCreatedAt', 'watchDeadline')
  if w[2] then watchers[#watchers + 1] = { id, w[1], w[2], w[3], w[4], w[5] } end
end
return watchers
`,
);
