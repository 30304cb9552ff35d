import { luaScript } from "../scripts.ts";
import { ACK_RECEIPTS, STORE_STATUSES } from "./shared.ts";

/**
 * The worker's completion step in one atomic script: stores the tasks' statuses, then acks
 * their deliveries of one queue (as `ack-12`). A failure while storing stops the script
 * before any ack, so an entry is never acked without its status.
 *
 * KEYS: resultsByUpdated, resultsByExpiry, taskIds, leases, stream band 0..9, then the
 *       result and timeline key of each status
 * ARGV: group, queue, then the statuses as `store_statuses` in shared.ts takes them, then receipt...
 * Returns how many entries were acked.
 */
export const ackWithStatusesScript = luaScript(
  "stemAckWithStatuses",
  "variable",
  `${STORE_STATUSES}${ACK_RECEIPTS}
local first_receipt = store_statuses(KEYS[1], KEYS[2], 15, 3)
return ack_receipts(KEYS[3], KEYS[4], 5, ARGV[1], ARGV[2], first_receipt)
`,
);
