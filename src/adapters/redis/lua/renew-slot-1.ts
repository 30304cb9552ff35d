import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Extends a holder's live slot to now + leaseMs.
 *
 * KEYS: slots (ZSET holder → deadline)
 * ARGV: holder, leaseMs
 * Returns 1 when renewed, 0 when the holder has no live slot.
 */
export const renewSlotScript = luaScript(
  "stemRenewSlot",
  1,
  `${NOW}
local now = now_ms()
local deadline = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not deadline or deadline <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return 1
`,
);
