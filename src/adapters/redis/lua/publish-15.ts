import { luaScript } from "../scripts.ts";
import { ENQUEUE, HOLD, NOW } from "./shared.ts";

/**
 * Publishes envelopes to one queue. Refuses ids already queued, delayed or in flight
 * anywhere under the prefix; holds envelopes whose notBefore is still ahead.
 *
 * KEYS: taskIds, queues, delayed, delayedData, wake, stream band 0..9
 * ARGV: group, queue, then per envelope: id, band, vt, notBefore ('' = none), json
 * Returns one flag per envelope: 1 accepted, 0 duplicate.
 */
export const publishScript = luaScript(
  "stemPublish",
  15,
  `${NOW}${ENQUEUE}${HOLD}
local group, queue = ARGV[1], ARGV[2]
local now = now_ms()
local flags = {}
for i = 3, #ARGV, 5 do
  local id, band, vt, not_before, json = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('HSETNX', KEYS[1], id, queue) == 0 then
    flags[#flags + 1] = 0
  else
    if not_before ~= '' and tonumber(not_before) > now then
      hold(KEYS[3], KEYS[4], KEYS[5], id, band, vt, json, not_before)
    else
      enqueue(KEYS[6 + band], group, id, vt, json)
    end
    flags[#flags + 1] = 1
  end
end
redis.call('SADD', KEYS[2], queue)
return flags
`,
);
