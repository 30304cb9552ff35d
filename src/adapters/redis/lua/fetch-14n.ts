import { luaScript } from "../scripts.ts";
import { NOW, PARSE_RECEIPT } from "./shared.ts";

/**
 * Leases up to `max` entries from one or more queues, in queue order, highest priority
 * band first. Per queue it first moves due delayed tasks into their streams, then takes,
 * band by band, entries whose lease expired (XCLAIM, delivery + 1) and new entries
 * (XREADGROUP '>'). Each delivery gets a lease of its own visibility timeout or the
 * default. Entries are returned raw; the caller decodes them (and dead-letters what is
 * not an envelope).
 *
 * KEYS: per queue (14 each): delayed, delayedData, leases, wake, stream band 0..9
 * ARGV: group, consumer, max, defaultLeaseMs, batchLimit
 * Returns { deliveries, waitMs, streamIds }:
 *   deliveries: flat, seven values per delivery: queueIndex, receipt, leaseDeadline, delivery
 *     (of this stream entry), envelope JSON ('' when the entry has none), the entry's raw
 *     fields when it has no envelope (0 otherwise; a flat reply is much cheaper to build
 *     and to parse), and the deliveries the task had before this entry (its `dc` field);
 *   waitMs: when nothing was delivered, ms until the next delayed task or lease deadline
 *     (-1 when none); streamIds: when nothing was delivered, the last entry id of every
 *     queue's wake stream and band streams (in KEYS order), for a blocking XREAD that
 *     wakes on the next new entry or newly delayed task.
 */
export const fetchScript = luaScript(
  "stemFetch",
  "variable",
  `${NOW}${PARSE_RECEIPT}
local PER_QUEUE = 14
local group, consumer = ARGV[1], ARGV[2]
local max = tonumber(ARGV[3])
local default_lease = tonumber(ARGV[4])
local batch = tonumber(ARGV[5])
local now = now_ms()
local out = {}
local taken = 0

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local function lease_ms(fields)
  local vt = tonumber(field(fields, 'vt') or '')
  if vt and vt > 0 then return vt end
  return default_lease
end

-- new leases of the current queue, written with one ZADD per queue
local pending_leases = {}
local function lease(q, band, entry, delivery, fields)
  local receipt = band .. '|' .. entry .. '|' .. delivery .. '|' .. (field(fields, 'id') or '')
  local deadline = now + lease_ms(fields)
  taken = taken + 1
  pending_leases[#pending_leases + 1] = deadline
  pending_leases[#pending_leases + 1] = receipt
  local json = field(fields, 'envelope') or ''
  local n = #out
  out[n + 1] = q
  out[n + 2] = receipt
  out[n + 3] = deadline
  out[n + 4] = delivery
  out[n + 5] = json
  if json == '' then out[n + 6] = fields else out[n + 6] = 0 end
  out[n + 7] = tonumber(field(fields, 'dc') or '0') or 0
end

local function write_leases(leases)
  for from = 1, #pending_leases, 1000 do
    redis.call('ZADD', leases, unpack(pending_leases, from, math.min(from + 999, #pending_leases)))
  end
  pending_leases = {}
end

local function promote(delayed, delayed_data, base)
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, batch)
  for _, id in ipairs(due) do
    local data = redis.call('HGET', delayed_data, id)
    if data then
      local band, vt, dc, json = string.match(data, '^(%d),(%d*),(%d+),({.*)$')
      if not band then
        band, vt, json = string.match(data, '^(%d),(%d*),(.*)$')
        dc = '0'
      end
      if not band then
        -- not written by publish: hand it on as is, to be dead-lettered as undecodable
        band, vt, json = '0', '', data
      end
      local stream = KEYS[base + 5 + tonumber(band)]
      if redis.call('EXISTS', stream) == 0 then
        redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
      end
      if (tonumber(dc or "") or 0) > 0 then
        redis.call('XADD', stream, '*', 'id', id, 'vt', vt, 'envelope', json, 'dc', dc)
      else
        redis.call('XADD', stream, '*', 'id', id, 'vt', vt, 'envelope', json)
      end
      redis.call('HDEL', delayed_data, id)
    end
    redis.call('ZREM', delayed, id)
  end
end

local function read_new(q, stream, band, count)
  if redis.call('EXISTS', stream) == 0 then return end
  local reply = redis.pcall('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if type(reply) == 'table' and reply.err then
    if string.find(reply.err, 'NOGROUP') then
      -- a stream written by someone else: adopt it with every entry unread
      redis.call('XGROUP', 'CREATE', stream, group, '0')
      reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
    else
      return redis.error_reply(reply.err)
    end
  end
  if not reply then return end
  for _, item in ipairs(reply[1][2]) do
    lease(q, band, item[1], 1, item[2])
  end
end

for q = 0, (#KEYS / PER_QUEUE) - 1 do
  if taken >= max then break end
  local base = q * PER_QUEUE
  local delayed, delayed_data, leases = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  promote(delayed, delayed_data, base)
  local expired = {}
  for _, receipt in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, batch)) do
    local band = parse_receipt(receipt)
    if band then
      expired[band] = expired[band] or {}
      table.insert(expired[band], receipt)
    else
      redis.call('ZREM', leases, receipt)
    end
  end
  for band = 9, 0, -1 do
    if taken >= max then break end
    local stream = KEYS[base + 5 + band]
    for _, receipt in ipairs(expired[band] or {}) do
      if taken >= max then break end
      local _, entry, delivery = parse_receipt(receipt)
      redis.call('ZREM', leases, receipt)
      local claimed = redis.pcall('XCLAIM', stream, group, consumer, 0, entry)
      if type(claimed) == 'table' and not claimed.err and claimed[1] and claimed[1][2] then
        lease(q, band, entry, delivery + 1, claimed[1][2])
      end
    end
    if taken < max then
      local err = read_new(q, stream, band, max - taken)
      if err then
        write_leases(leases)
        return err
      end
    end
  end
  write_leases(leases)
end

if taken > 0 then return { out, -1, {} } end

local next_at = nil
local ids = {}
for q = 0, (#KEYS / PER_QUEUE) - 1 do
  local base = q * PER_QUEUE
  for k = base + 1, base + 3, 2 do
    local first = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
    if first[2] then
      local at = tonumber(first[2])
      if not next_at or at < next_at then next_at = at end
    end
  end
  for k = base + 4, base + 14 do
    local last = redis.call('XREVRANGE', KEYS[k], '+', '-', 'COUNT', 1)
    ids[#ids + 1] = (last[1] and last[1][1]) or '0-0'
  end
end
local wait = -1
if next_at then wait = math.max(0, next_at - now) end
return { out, wait, ids }
`,
);
