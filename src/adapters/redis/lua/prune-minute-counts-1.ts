import { luaScript } from "../scripts.ts";

/**
 * Deletes the per-minute counter hashes of minutes before a time, and their index entries.
 *
 * KEYS: minuteCountIndex
 * ARGV: minute key prefix, before (ms)
 */
export const pruneMinuteCountsScript = luaScript(
  "stemPruneMinuteCounts",
  1,
  `
local before = '(' .. ARGV[2]
for _, minute in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', before)) do
  redis.call('DEL', ARGV[1] .. minute)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', before)
return 0
`,
);
