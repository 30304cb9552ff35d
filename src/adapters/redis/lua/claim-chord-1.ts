import { luaScript } from "../scripts.ts";

/**
 * Sets a group's chord callback id once; later claims lose.
 *
 * KEYS: group
 * ARGV: callbackId
 * Returns 1 for the one winning claim, else 0 (also when the group is gone).
 */
export const claimChordScript = luaScript(
  "stemClaimChord",
  1,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'callback', ARGV[1])
`,
);
