import { luaScript } from "../scripts.ts";
import { ENQUEUE, FORGET_ID, HOLD, NOW, PARSE_RECEIPT } from "./shared.ts";

/**
 * Releases one delivery: the entry is acked and deleted, then either dropped or put back
 * (as a new entry carrying the caller's updated envelope), after `delayMs` if given.
 *
 * KEYS: taskIds, delayed, delayedData, leases, wake, stream band 0..9
 * ARGV: group, queue, receipt, requeue ('1'/'0'), delayMs, vt, json, deliveries (the
 *   count the requeued entry carries on)
 * Returns 1 when released, 0 when the lease was already lost.
 */
export const nackScript = luaScript(
  "stemNack",
  15,
  `${NOW}${ENQUEUE}${HOLD}${PARSE_RECEIPT}${FORGET_ID}
local group, queue, receipt = ARGV[1], ARGV[2], ARGV[3]
local band, entry, _, id = parse_receipt(receipt)
if not band or redis.call('ZREM', KEYS[4], receipt) == 0 then return 0 end
local stream = KEYS[6 + band]
redis.call('XACK', stream, group, entry)
redis.call('XDEL', stream, entry)
if ARGV[4] ~= '1' then
  forget_id(KEYS[1], id, queue)
  return 1
end
local delay = tonumber(ARGV[5])
if delay > 0 then
  hold(KEYS[2], KEYS[3], KEYS[5], id, band, ARGV[6], ARGV[7], now_ms() + delay, ARGV[8])
else
  enqueue(stream, group, id, ARGV[6], ARGV[7], ARGV[8])
end
return 1
`,
);
