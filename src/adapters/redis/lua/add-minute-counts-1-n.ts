import { luaScript } from "../scripts.ts";

/**
 * Adds per-minute counter values: each goes into its minute's hash (field
 * `series\ncounter`), which expires after the ttl, and the minute joins the index.
 *
 * KEYS: minuteCountIndex, then the minute hash of each cell
 * ARGV: ttl ms, then minute, field, value of each cell (in the order of their keys)
 */
export const addMinuteCountsScript = luaScript(
  "stemAddMinuteCounts",
  "variable",
  `
for i = 2, #ARGV, 3 do
  local key = KEYS[(i - 2) / 3 + 2]
  redis.call('HINCRBYFLOAT', key, ARGV[i + 1], ARGV[i + 2])
  redis.call('PEXPIRE', key, ARGV[1])
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i])
end
return 0
`,
);
