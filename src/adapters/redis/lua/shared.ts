/**
 * Lua helpers included at the top of the broker scripts.
 *
 * Conventions shared by every broker script:
 * - a queue has one stream per priority band; entries carry the fields `id` (envelope id),
 *   `vt` (the envelope's visibilityTimeoutMs, empty for the default), `envelope` (JSON)
 *   and, for a released task, `dc` (deliveries it had before this entry);
 * - a delivered entry stays in the group's pending list until acked, and has a lease in
 *   the queue's `leases` ZSET: member = receipt `band|entryId|delivery|envelopeId`,
 *   score = lease deadline in ms (server time);
 * - a delayed task is an id in the `delayed` ZSET (score = notBefore) with its data in
 *   the `delayedData` hash as `band,vt,json` (`band,vt,dc,json` with earlier deliveries);
 *   storing one appends to the queue's `wake`
 *   stream so that waiting fetches recompute when to look again.
 */

/** `now_ms()`: the server clock in epoch ms. */
export const NOW = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * `enqueue(stream, group, id, vt, json, dc)`: appends a ready entry, creating stream and
 * group (checked once per stream per script run). `dc` (optional) is the number of
 * deliveries the task had before.
 */
export const ENQUEUE = `
local ready_streams = {}
local function enqueue(stream, group, id, vt, json, dc)
  if not ready_streams[stream] then
    if redis.call('EXISTS', stream) == 0 then
      redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
    end
    ready_streams[stream] = true
  end
  if (tonumber(dc or "") or 0) > 0 then
    redis.call('XADD', stream, '*', 'id', id, 'vt', vt, 'envelope', json, 'dc', dc)
  else
    redis.call('XADD', stream, '*', 'id', id, 'vt', vt, 'envelope', json)
  end
end
`;

/**
 * `hold(delayed, delayedData, wake, id, band, vt, json, notBefore, dc)`: stores a delayed
 * task (`dc`, optional: deliveries it had before) and signals the queue's wake stream.
 */
export const HOLD = `
local function hold(delayed, delayed_data, wake, id, band, vt, json, not_before, dc)
  redis.call('ZADD', delayed, not_before, id)
  if (tonumber(dc or "") or 0) > 0 then
    redis.call('HSET', delayed_data, id, band .. ',' .. vt .. ',' .. dc .. ',' .. json)
  else
    redis.call('HSET', delayed_data, id, band .. ',' .. vt .. ',' .. json)
  end
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

/**
 * `store_statuses(updated, expiry, k, i)`: stores task statuses given in ARGV from index
 * `i` as `ttlMs, expiresAt, timelineCap, count, (id, updatedAt, json, timelineEntries) *
 * count`, the nth status's result and timeline keys being KEYS[k + 2(n - 1)] and the one
 * after: each JSON under its result key with the ttl, indexed by updatedAt in `updated`
 * and by expiresAt in `expiry`; the timeline entries (JSON objects, one per line) are
 * appended to the timeline LIST as appendTimeline in core/timeline.ts does, and the list
 * gets the status's ttl. A status whose id is in the table `kept` (optional) is not
 * stored. Returns the ARGV index after the statuses.
 */
export const STORE_STATUSES = `
local function append_timeline(key, lines, ttl, cap)
  if lines ~= '' then
    local progress = '"event":"progress"'
    local n
    if not string.find(lines, progress, 1, true) then
      -- the usual case: one RPUSH of every line, its reply is the new length
      local items = {}
      for line in string.gmatch(lines, '[^\\n]+') do items[#items + 1] = line end
      n = redis.call('RPUSH', key, unpack(items))
    else
      for line in string.gmatch(lines, '[^\\n]+') do
        local last = string.find(line, progress, 1, true) and redis.call('LINDEX', key, -1)
        if last and string.find(last, progress, 1, true) then
          redis.call('LSET', key, -1, line)
        else
          redis.call('RPUSH', key, line)
        end
      end
      n = redis.call('LLEN', key)
    end
    if n > cap then
      local first = redis.call('LINDEX', key, 0)
      redis.call('LTRIM', key, n - cap + 1, -1)
      redis.call('LPUSH', key, first)
    end
  end
  redis.call('PEXPIRE', key, ttl)
end

local function store_statuses(updated, expiry, k, i, kept)
  local ttl, expires_at = ARGV[i], ARGV[i + 1]
  local cap, count = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local by_updated, by_expiry = {}, {}
  for _ = 1, count do
    local id = ARGV[i]
    if not (kept and kept[id]) then
      redis.call('SET', KEYS[k], ARGV[i + 2], 'PX', ttl)
      append_timeline(KEYS[k + 1], ARGV[i + 3], ttl, cap)
      by_updated[#by_updated + 1] = ARGV[i + 1]
      by_updated[#by_updated + 1] = id
      by_expiry[#by_expiry + 1] = expires_at
      by_expiry[#by_expiry + 1] = id
    end
    k = k + 2
    -- ZADD takes many pairs at once; unpack() is kept well under Lua's stack limit.
    if #by_updated >= 1000 then
      redis.call('ZADD', updated, unpack(by_updated))
      redis.call('ZADD', expiry, unpack(by_expiry))
      by_updated, by_expiry = {}, {}
    end
    i = i + 4
  end
  if #by_updated > 0 then
    redis.call('ZADD', updated, unpack(by_updated))
    redis.call('ZADD', expiry, unpack(by_expiry))
  end
  return i
end
`;

/**
 * `ack_receipts(taskIds, leases, streamBase, group, queue, i)`: acks the receipts in ARGV
 * from index `i` on: XACK + XDEL of each entry whose lease is still the one handed out
 * (KEYS[streamBase + band] is the band's stream), and removal of its id from the duplicate
 * index. A receipt whose lease was lost is ignored. Every step is one call per batch (per
 * band for the stream calls), not per receipt. Returns how many were acked.
 */
export const ACK_RECEIPTS = `${PARSE_RECEIPT}
local function ack_receipts(task_ids, leases, stream_base, group, queue, i)
  local receipts, seen = {}, {}
  for k = i, #ARGV do
    if not seen[ARGV[k]] then
      seen[ARGV[k]] = true
      receipts[#receipts + 1] = ARGV[k]
    end
  end
  local held, entries, ids = {}, {}, {}
  -- chunks keep unpack() well under Lua's stack limit
  for from = 1, #receipts, 1000 do
    local chunk = { unpack(receipts, from, math.min(from + 999, #receipts)) }
    local scores = redis.call('ZMSCORE', leases, unpack(chunk))
    for n, receipt in ipairs(chunk) do
      local band, entry, _, id = parse_receipt(receipt)
      if band and scores[n] then
        held[#held + 1] = receipt
        entries[band] = entries[band] or {}
        table.insert(entries[band], entry)
        if id ~= '' then ids[#ids + 1] = id end
      end
    end
  end
  for from = 1, #held, 1000 do
    redis.call('ZREM', leases, unpack(held, from, math.min(from + 999, #held)))
  end
  for band, list in pairs(entries) do
    local stream = KEYS[stream_base + band]
    for from = 1, #list, 1000 do
      local last = math.min(from + 999, #list)
      redis.call('XACK', stream, group, unpack(list, from, last))
      redis.call('XDEL', stream, unpack(list, from, last))
    end
  end
  -- forget ids that still belong to this queue
  for from = 1, #ids, 1000 do
    local chunk = { unpack(ids, from, math.min(from + 999, #ids)) }
    local owners = redis.call('HMGET', task_ids, unpack(chunk))
    local mine = {}
    for n, id in ipairs(chunk) do
      if owners[n] == queue then mine[#mine + 1] = id end
    end
    if #mine > 0 then redis.call('HDEL', task_ids, unpack(mine)) end
  end
  return #held
end
`;

/**
 * `publish_envelopes(taskIds, queues, delayed, delayedData, wake, streamBase, group, queue, i, skipped)`:
 * publishes the envelopes in ARGV from index `i` on, as `(id, band, vt, notBefore, json)`
 * each (notBefore '' = none), to one queue whose band streams are KEYS[streamBase + band].
 * Refuses ids already queued, delayed or in flight anywhere under the prefix; holds
 * envelopes whose notBefore is still ahead; refuses those whose id is in the table
 * `skipped` (optional). Returns one flag per envelope: 1 accepted, 0 duplicate.
 */
export const PUBLISH_ENVELOPES = `${NOW}${ENQUEUE}${HOLD}
local function publish_envelopes(task_ids, queues, delayed, delayed_data, wake, stream_base, group, queue, i, skipped)
  local now = now_ms()
  local flags = {}
  for k = i, #ARGV, 5 do
    local id, band, vt, not_before, json = ARGV[k], tonumber(ARGV[k + 1]), ARGV[k + 2], ARGV[k + 3], ARGV[k + 4]
    if (skipped and skipped[id]) or redis.call('HSETNX', task_ids, id, queue) == 0 then
      flags[#flags + 1] = 0
    else
      if not_before ~= '' and tonumber(not_before) > now then
        hold(delayed, delayed_data, wake, id, band, vt, json, not_before)
      else
        enqueue(KEYS[stream_base + band], group, id, vt, json)
      end
      flags[#flags + 1] = 1
    end
  end
  redis.call('SADD', queues, queue)
  return flags
end
`;
