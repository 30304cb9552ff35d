import { luaScript } from "../scripts.ts";
import { ACK_RECEIPTS } from "./shared.ts";

/**
 * Acks deliveries of one queue: XACK + XDEL of each entry whose lease is still the one
 * handed out, and removal of its id from the duplicate index. A receipt whose lease was
 * lost (reclaimed by another consumer) is ignored.
 *
 * KEYS: taskIds, leases, stream band 0..9
 * ARGV: group, queue, receipt...
 * Returns how many entries were acked.
 */
export const ackScript = luaScript(
  "stemAck",
  12,
  `${ACK_RECEIPTS}
return ack_receipts(KEYS[1], KEYS[2], 3, ARGV[1], ARGV[2], 3)
`,
);
