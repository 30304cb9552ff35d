import { luaScript } from "../scripts.ts";

/**
 * Stores revoke entries of one namespace whose version is higher than the stored one,
 * and indexes each stored entry by version and, when it has one, by expiry.
 *
 * KEYS: revokes(namespace), revokeVersions(namespace), revokeExpiries(namespace)
 * ARGV: per entry: taskId, version, entryJson
 * Returns, per entry, the JSON stored afterwards (the new one or the kept one).
 */
export const upsertRevokesScript = luaScript(
  "stemUpsertRevokes",
  3,
  `
local out = {}
for i = 1, #ARGV, 3 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored and tonumber(cjson.decode(stored).version) >= tonumber(ARGV[i + 1]) then
    out[#out + 1] = stored
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
    local expires = cjson.decode(ARGV[i + 2]).expiresAt
    if type(expires) == 'number' then
      redis.call('ZADD', KEYS[3], expires, ARGV[i])
    else
      redis.call('ZREM', KEYS[3], ARGV[i])
    end
    out[#out + 1] = ARGV[i + 2]
  end
end
return out
`,
);
