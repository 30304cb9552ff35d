import { luaScript } from "../scripts.ts";

/**
 * Adds per-minute counter values: each goes into its minute's hash (field
 * `series\ncounter`), which expires after the ttl, and the minute joins the index.
 *
 * KEYS: minuteCountIndex
 * ARGV: minute key prefix, ttl ms, then minute, field, value of each cell
 */
export const addMinuteCountsScript = luaScript(
  "stemAddMinuteCounts",
  1,
  `
for i = 3, #ARGV, 3 do
  local key = ARGV[1] .. ARGV[i]
  redis.call('HINCRBYFLOAT', key, ARGV[i + 1], ARGV[i + 2])
  redis.call('PEXPIRE', key, ARGV[2])
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i])
end
return 0
`,
);
