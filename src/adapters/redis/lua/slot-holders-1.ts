import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * The live holders of a concurrency key, on the server clock.
 *
 * KEYS: slots (ZSET holder → deadline)
 * Returns the holders whose lease has not run out.
 */
export const slotHoldersScript = luaScript(
  "stemSlotHolders",
  1,
  `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now_ms(), '+inf')
`,
);
