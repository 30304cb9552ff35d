import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Drops index entries of task results that have expired. The caller passes candidates
 * (index members whose recorded expiry looked past); each is checked again here: one not
 * yet due is left alone, one whose key still lives (its ttl was reset through another
 * path) is re-scored from its real ttl instead.
 *
 * KEYS: resultsByUpdated, resultsByExpiry, then the result key of each candidate
 * ARGV: candidate id... (in the order of their keys)
 * Returns how many entries were dropped.
 */
export const pruneResultsScript = luaScript(
  "stemPruneResults",
  "variable",
  `${NOW}
local now = now_ms()
local dropped = 0
for i, id in ipairs(ARGV) do
  local due = tonumber(redis.call('ZSCORE', KEYS[2], id))
  if due and due <= now then
    local ttl = redis.call('PTTL', KEYS[i + 2])
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
end
return dropped
`,
);
