import { luaScript } from "../scripts.ts";
import { ENQUEUE, HOLD, NOW } from "./shared.ts";

/**
 * Re-publishes dead letters of one queue and removes them from the dead letters, in one
 * step. A dead letter already gone (replayed or purged by someone else) is skipped; one
 * whose id is queued again meanwhile is kept and skipped.
 *
 * KEYS: taskIds, queues, delayed, delayedData, wake, dead (queue), deadRecords,
 *       deadIndex, stream band 0..9
 * ARGV: group, queue, then per entry: id, band, vt, notBefore ('' = none), json
 * Returns one flag per entry: 1 replayed, 0 gone, 2 id queued again.
 */
export const replayDeadLettersScript = luaScript(
  "stemReplayDeadLetters",
  18,
  `${NOW}${ENQUEUE}${HOLD}
local group, queue = ARGV[1], ARGV[2]
local now = now_ms()
local flags = {}
for i = 3, #ARGV, 5 do
  local id, band, vt, not_before, json = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('HEXISTS', KEYS[7], id) == 0 then
    flags[#flags + 1] = 0
  elseif redis.call('HSETNX', KEYS[1], id, queue) == 0 then
    flags[#flags + 1] = 2
  else
    redis.call('HDEL', KEYS[7], id)
    redis.call('ZREM', KEYS[6], id)
    redis.call('ZREM', KEYS[8], id)
    if not_before ~= '' and tonumber(not_before) > now then
      hold(KEYS[3], KEYS[4], KEYS[5], id, band, vt, json, not_before)
    else
      enqueue(KEYS[9 + band], group, id, vt, json)
    end
    flags[#flags + 1] = 1
  end
end
redis.call('SADD', KEYS[2], queue)
return flags
`,
);
