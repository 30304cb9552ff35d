/**
 * Lua helpers included at the top of the broker scripts.
 *
 * Conventions shared by every broker script:
 * - a queue has one stream per priority band; entries carry the fields `id` (envelope id),
 *   `vt` (the envelope's visibilityTimeoutMs, empty for the default) and `envelope` (JSON);
 * - a delivered entry stays in the group's pending list until acked, and has a lease in
 *   the queue's `leases` ZSET: member = receipt `band|entryId|delivery|envelopeId`,
 *   score = lease deadline in ms (server time);
 * - a delayed task is an id in the `delayed` ZSET (score = notBefore) with its data in
 *   the `delayedData` hash as `band,vt,json`; storing one appends to the queue's `wake`
 *   stream so that waiting fetches recompute when to look again.
 */

/** `now_ms()`: the server clock in epoch ms. */
export const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** `enqueue(stream, group, id, vt, json)`: appends a ready entry, creating stream and group. */
export const ENQUEUE = `
local function enqueue(stream, group, id, vt, json)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  end
  redis.call('XADD', stream, '*', 'id', id, 'vt', vt, 'envelope', json)
end
`;

/**
 * `hold(delayed, delayedData, wake, id, band, vt, json, notBefore)`: stores a delayed task
 * and signals the queue's wake stream.
 */
export const HOLD = `
local function hold(delayed, delayed_data, wake, id, band, vt, json, not_before)
  redis.call('ZADD', delayed, not_before, id)
  redis.call('HSET', delayed_data, id, band .. ',' .. vt .. ',' .. json)
  redis.call('XADD', wake, 'MAXLEN', 1, '*', 'due', not_before)
end
`;

/** `parse_receipt(receipt)` → band (number), entry id, delivery number, envelope id; nil if malformed. */
export const PARSE_RECEIPT = `
local function parse_receipt(receipt)
  local band, entry, delivery, id = string.match(receipt, '^(%d)|([^|]+)|(%d+)|(.*)$')
  if not band then return nil end
  return tonumber(band), entry, tonumber(delivery), id
end
`;

/** `forget_id(taskIds, id, queue)`: drops an id from the duplicate index if it belongs to `queue`. */
export const FORGET_ID = `
local function forget_id(task_ids, id, queue)
  if id ~= '' and redis.call('HGET', task_ids, id) == queue then
    redis.call('HDEL', task_ids, id)
  end
end
`;
