import { luaScript } from "../scripts.ts";

/**
 * Removes workers from the heartbeat index whose heartbeat key has expired (checked
 * again here, so a heartbeat written meanwhile keeps its index entry).
 *
 * KEYS: heartbeats
 * ARGV: heartbeat key prefix, workerId...
 * Returns how many were removed.
 */
export const forgetHeartbeatsScript = luaScript(
  "stemForgetHeartbeats",
  1,
  `
local removed = 0
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then
    removed = removed + redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return removed
`,
);
