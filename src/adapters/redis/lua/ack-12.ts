import { luaScript } from "../scripts.ts";
import { FORGET_ID, PARSE_RECEIPT } from "./shared.ts";

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
  `${PARSE_RECEIPT}${FORGET_ID}
local group, queue = ARGV[1], ARGV[2]
local acked = 0
for i = 3, #ARGV do
  local band, entry, _, id = parse_receipt(ARGV[i])
  if band and redis.call('ZREM', KEYS[2], ARGV[i]) == 1 then
    local stream = KEYS[3 + band]
    redis.call('XACK', stream, group, entry)
    redis.call('XDEL', stream, entry)
    forget_id(KEYS[1], id, queue)
    acked = acked + 1
  end
end
return acked
`,
);
