import { luaScript } from "../scripts.ts";

/**
 * Extends a lock's ttl if `owner` holds it.
 *
 * KEYS: lock
 * ARGV: owner, ttlMs
 * Returns 1 when renewed.
 */
export const renewLockScript = luaScript(
  "stemRenewLock",
  1,
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`,
);
