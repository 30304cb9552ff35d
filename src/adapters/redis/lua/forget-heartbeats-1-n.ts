import { luaScript } from "../scripts.ts";

/**
 * Removes workers from the heartbeat index whose heartbeat key has expired (checked
 * again here, so a heartbeat written meanwhile keeps its index entry).
 *
 * KEYS: heartbeats, then the heartbeat key of each worker
 * ARGV: workerId... (in the order of their keys)
 * Returns how many were removed.
 */
export const forgetHeartbeatsScript = luaScript(
  "stemForgetHeartbeats",
  "variable",
  `
local removed = 0
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return removed
`,
);
