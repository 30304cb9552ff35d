import { luaScript } from "../scripts.ts";

/**
 * Deletes a namespace's revoke entries whose expiresAt is at or before `now` (found
 * through the expiry index, so the cost grows with what expired, not with what is kept),
 * with their index entries.
 *
 * KEYS: revokes(namespace), revokeVersions(namespace), revokeExpiries(namespace)
 * ARGV: now
 * Returns how many were deleted.
 */
export const pruneRevokesScript = luaScript(
  "stemPruneRevokes",
  3,
  `
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
for _, id in ipairs(expired) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
return #expired
`,
);
