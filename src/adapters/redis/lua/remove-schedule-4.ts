import { luaScript } from "../scripts.ts";

/**
 * Deletes a schedule entry with its due-index entry and history.
 *
 * KEYS: schedules, schedulesDue, scheduleChanges, scheduleHistory(id)
 * ARGV: id
 * Returns 1 when the entry existed.
 */
export const removeScheduleScript = luaScript(
  "stemRemoveSchedule",
  4,
  `
redis.call('DEL', KEYS[4])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
`,
);
