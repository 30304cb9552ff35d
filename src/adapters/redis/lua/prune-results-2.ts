import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Drops index entries of task results that have expired. Candidates are index members
 * whose recorded expiry has passed; one whose key still lives (its ttl was reset through
 * another path) is re-scored from its real ttl instead.
 *
 * KEYS: resultsByUpdated, resultsByExpiry
 * ARGV: result key prefix, limit
 * Returns how many entries were dropped.
 */
export const pruneResultsScript = luaScript(
  "stemPruneResults",
  2,
  `${NOW}
local now = now_ms()
local dropped = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local ttl = redis.call('PTTL', ARGV[1] .. id)
  if ttl > 0 then
    redis.call('ZADD', KEYS[2], now + ttl, id)
  elseif ttl == -1 then
    redis.call('ZREM', KEYS[2], id)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    dropped = dropped + 1
  end
end
return dropped
`,
);
