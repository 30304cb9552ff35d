import { luaScript } from "../scripts.ts";

/**
 * Deletes per-minute counter hashes and their index entries (the caller read the
 * minutes before its cut-off from the index).
 *
 * KEYS: minuteCountIndex, then the hash of each minute
 * ARGV: minute... (in the order of their keys)
 */
export const pruneMinuteCountsScript = luaScript(
  "stemPruneMinuteCounts",
  "variable",
  `
for i = 1, #ARGV do
  redis.call('DEL', KEYS[i + 1])
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return 0
`,
);
