import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Takes a slot of a concurrency key when fewer than `limit` others hold one (a holder that
 * already holds one has its lease renewed), dropping expired slots first, and records
 * the limit. The slots key expires with its last lease.
 *
 * KEYS: slots (ZSET holder → deadline), limits (HASH key → limit)
 * ARGV: key, holder, limit, leaseMs
 * Returns 1 when the holder now holds a slot.
 */
export const acquireSlotScript = luaScript(
  "stemAcquireSlot",
  2,
  `${NOW}
local now = now_ms()
local limit, lease = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], limit)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
return 1
`,
);
