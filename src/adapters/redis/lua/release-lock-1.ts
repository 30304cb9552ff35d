import { luaScript } from "../scripts.ts";

/**
 * Deletes a lock if `owner` holds it.
 *
 * KEYS: lock
 * ARGV: owner
 * Returns 1 when released.
 */
export const releaseLockScript = luaScript(
  "stemReleaseLock",
  1,
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`,
);
