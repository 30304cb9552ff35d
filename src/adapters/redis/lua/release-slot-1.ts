import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Removes a holder's slot.
 *
 * KEYS: slots (ZSET holder → deadline)
 * ARGV: holder
 * Returns 1 when the slot removed was live.
 */
export const releaseSlotScript = luaScript(
  "stemReleaseSlot",
  1,
  `${NOW}
local deadline = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not deadline then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if deadline > now_ms() then return 1 end
return 0
`,
);
