import { luaScript } from "../scripts.ts";

/**
 * Records one member's status; the completed counter moves only the first time an index
 * reports. The results hash shares the group's remaining ttl.
 *
 * KEYS: group, groupResults
 * ARGV: index, statusJson
 * Returns { groupFields, resultFields } after the update, or nil when the group is gone.
 */
export const addGroupResultScript = luaScript(
  "stemAddGroupResult",
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'completed', 1)
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return { redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
`,
);
