import { luaScript } from "../scripts.ts";

/**
 * Writes a schedule entry if its stored version is still the one the caller read
 * (optimistic concurrency), keeps the due index in step, bumps the change counter and
 * optionally appends a run record to the entry's history (trimmed to the latest N).
 *
 * KEYS: schedules, schedulesDue, scheduleChanges, scheduleHistory(id)
 * ARGV: id, expectedVersion, entryJson, nextRunAt ('' = none), enabled ('1'/'0'),
 *       historyJson ('' = none), historyLimit
 * Returns { 1, version } when written, { 0, storedVersion } on a version conflict.
 */
export const writeScheduleScript = luaScript(
  "stemWriteSchedule",
  4,
  `
local id = ARGV[1]
local stored = redis.call('HGET', KEYS[1], id)
local actual = 0
if stored then actual = tonumber(cjson.decode(stored).version) or 0 end
if actual ~= tonumber(ARGV[2]) then return { 0, actual } end
redis.call('HSET', KEYS[1], id, ARGV[3])
if ARGV[5] == '1' and ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], id)
else
  redis.call('ZREM', KEYS[2], id)
end
redis.call('INCR', KEYS[3])
if ARGV[6] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[6])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[7]) - 1)
end
return { 1, actual + 1 }
`,
);
