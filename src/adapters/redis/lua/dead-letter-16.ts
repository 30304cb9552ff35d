import { luaScript } from "../scripts.ts";
import { FORGET_ID, PARSE_RECEIPT } from "./shared.ts";

/**
 * Moves one delivery to the dead letters: acks and deletes the entry, forgets its id, and
 * stores the dead-letter record (JSON) under its id, indexed by deadAt per queue and
 * across queues. A dead letter with the same id is replaced, also when it was in another
 * queue (its index there, the last key, is dropped).
 *
 * KEYS: taskIds, leases, dead (queue), deadRecords, deadIndex, stream band 0..9,
 *       dead (queue of an earlier dead letter with this id; else the queue's own)
 * ARGV: group, queue, receipt, deadId, deadAt, recordJson, forgetId ('' = none)
 * Returns 1 when moved, 0 when the lease was already lost.
 */
export const deadLetterScript = luaScript(
  "stemDeadLetter",
  16,
  `${PARSE_RECEIPT}${FORGET_ID}
local group, queue, receipt = ARGV[1], ARGV[2], ARGV[3]
local band, entry = parse_receipt(receipt)
if not band or redis.call('ZREM', KEYS[2], receipt) == 0 then return 0 end
local stream = KEYS[6 + band]
redis.call('XACK', stream, group, entry)
redis.call('XDEL', stream, entry)
forget_id(KEYS[1], ARGV[7], queue)
local dead_id, dead_at = ARGV[4], ARGV[5]
if KEYS[16] ~= KEYS[3] then redis.call('ZREM', KEYS[16], dead_id) end
redis.call('HSET', KEYS[4], dead_id, ARGV[6])
redis.call('ZADD', KEYS[3], dead_at, dead_id)
redis.call('ZADD', KEYS[5], dead_at, dead_id)
return 1
`,
);
