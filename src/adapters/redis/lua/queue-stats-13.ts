import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Counts one queue at one instant. Every stream entry is either ready or leased, so
 * ready = entries - live leases (an expired lease counts as ready again); delayed tasks
 * already due count as ready.
 *
 * KEYS: delayed, leases, dead (queue), stream band 0..9
 * Returns { pending, inflight, delayed, dead }.
 */
export const queueStatsScript = luaScript(
  "stemQueueStats",
  13,
  `${NOW}
local now = now_ms()
local entries = 0
for band = 0, 9 do entries = entries + redis.call('XLEN', KEYS[4 + band]) end
local inflight = redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf')
local due = redis.call('ZCOUNT', KEYS[1], '-inf', now)
local delayed = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
return { entries - inflight + due, inflight, delayed, redis.call('ZCARD', KEYS[3]) }
`,
);
