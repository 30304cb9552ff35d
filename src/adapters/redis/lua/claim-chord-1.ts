import { luaScript } from "../scripts.ts";

/**
 * Claims a group's completion for an owner once (field `callback` holds the owner); a
 * repeat by the same owner wins again, anyone else loses.
 *
 * KEYS: group
 * ARGV: owner
 * Returns 1 when the owner holds the claim, else 0 (also when the group is gone).
 */
export const claimChordScript = luaScript(
  "stemClaimChord",
  1,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'callback', ARGV[1])
if redis.call('HGET', KEYS[1], 'callback') == ARGV[1] then return 1 end
return 0
`,
);
