import { luaScript } from "../scripts.ts";

/**
 * Deletes a namespace's revoke entries whose expiresAt is at or before `now`, with their
 * version index entries.
 *
 * KEYS: revokes(namespace), revokeVersions(namespace)
 * ARGV: now
 * Returns how many were deleted.
 */
export const pruneRevokesScript = luaScript(
  "stemPruneRevokes",
  2,
  `
local now = tonumber(ARGV[1])
local removed = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local expires = cjson.decode(all[i + 1]).expiresAt
  if type(expires) == 'number' and expires <= now then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('ZREM', KEYS[2], all[i])
    removed = removed + 1
  end
end
return removed
`,
);
