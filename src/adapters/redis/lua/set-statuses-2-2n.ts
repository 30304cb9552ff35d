import { luaScript } from "../scripts.ts";
import { STORE_STATUSES } from "./shared.ts";

/**
 * Stores task statuses (result backend `set`): one command for a whole batch.
 *
 * KEYS: resultsByUpdated, resultsByExpiry, then the result and timeline key of each status
 * ARGV: the statuses as `store_statuses` in shared.ts takes them
 * Returns how many statuses were stored.
 */
export const setStatusesScript = luaScript(
  "stemSetStatuses",
  "variable",
  `${STORE_STATUSES}
store_statuses(KEYS[1], KEYS[2], 3, 1)
return tonumber(ARGV[4])
`,
);
