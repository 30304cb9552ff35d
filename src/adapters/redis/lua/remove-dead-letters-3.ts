import { luaScript } from "../scripts.ts";

/**
 * Deletes dead letters of one queue by id.
 *
 * KEYS: dead (queue), deadRecords, deadIndex
 * ARGV: id...
 * Returns how many were deleted.
 */
export const removeDeadLettersScript = luaScript(
  "stemRemoveDeadLetters",
  3,
  `
local removed = 0
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[3], ARGV[i])
    removed = removed + 1
  end
end
return removed
`,
);
