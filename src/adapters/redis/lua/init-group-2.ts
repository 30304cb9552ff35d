import { luaScript } from "../scripts.ts";

/**
 * Creates a group, or resets an existing one (results cleared).
 *
 * KEYS: group, groupResults
 * ARGV: expected, metaJson, ttlMs
 */
export const initGroupScript = luaScript(
  "stemInitGroup",
  2,
  `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'expected', ARGV[1], 'meta', ARGV[2], 'completed', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
);
