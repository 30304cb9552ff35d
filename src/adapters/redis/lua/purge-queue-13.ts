import { luaScript } from "../scripts.ts";

/**
 * Deletes a queue's ready and delayed tasks (not in-flight ones) and forgets their ids.
 * Ready entries are those after the group's last-delivered id; everything before it is
 * leased.
 *
 * KEYS: taskIds, delayed, delayedData, stream band 0..9
 * ARGV: group, queue
 * Returns how many tasks were deleted.
 */
export const purgeQueueScript = luaScript(
  "stemPurgeQueue",
  13,
  `
local group, queue = ARGV[1], ARGV[2]
local removed = 0

local function forget(id)
  if id and redis.call('HGET', KEYS[1], id) == queue then redis.call('HDEL', KEYS[1], id) end
end

local function last_delivered(stream)
  local groups = redis.pcall('XINFO', 'GROUPS', stream)
  if groups.err then return nil end
  for _, info in ipairs(groups) do
    local name, last = nil, nil
    for i = 1, #info, 2 do
      if info[i] == 'name' then name = info[i + 1] end
      if info[i] == 'last-delivered-id' then last = info[i + 1] end
    end
    if name == group then return last end
  end
  return nil
end

for band = 0, 9 do
  local stream = KEYS[4 + band]
  if redis.call('EXISTS', stream) == 1 then
    local last = last_delivered(stream)
    local start = last and ('(' .. last) or '-'
    while true do
      local entries = redis.call('XRANGE', stream, start, '+', 'COUNT', 500)
      if #entries == 0 then break end
      for _, item in ipairs(entries) do
        local fields = item[2]
        for i = 1, #fields, 2 do
          if fields[i] == 'id' then forget(fields[i + 1]) end
        end
        redis.call('XDEL', stream, item[1])
        removed = removed + 1
        start = '(' .. item[1]
      end
    end
  end
end

for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  forget(id)
  removed = removed + 1
end
redis.call('DEL', KEYS[2], KEYS[3])
return removed
`,
);
