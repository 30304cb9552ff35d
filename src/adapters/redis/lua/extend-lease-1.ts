import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Pushes a live lease out to now + ms. A lease that already ran out (or was reclaimed)
 * is not revived.
 *
 * KEYS: leases
 * ARGV: receipt, ms
 * Returns the new deadline, or 0 when the lease was lost.
 */
export const extendLeaseScript = luaScript(
  "stemExtendLease",
  1,
  `${NOW}
local now = now_ms()
local deadline = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if deadline <= now then return 0 end
local next_deadline = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', next_deadline, ARGV[1])
return next_deadline
`,
);
