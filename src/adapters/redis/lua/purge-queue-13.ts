import type { RedisClient } from "../client.ts";
import type { QueueKeys } from "../keys.ts";
import { execPipeline, luaScript, runScript } from "../scripts.ts";

/**
 * Entries deleted per script call. Redis runs one script at a time and nothing else
 * meanwhile, so a purge is many short calls (about a millisecond each) rather than one
 * that blocks the server for as long as a million-entry queue takes.
 */
export const PURGE_CHUNK = 500;

/**
 * Deletes up to `budget` of a queue's ready and delayed tasks (not in-flight ones) and
 * forgets their ids. Ready entries are those after the group's last-delivered id, up to
 * the band's `stop` id (its newest entry when the purge began, so a purge racing a
 * producer ends); everything before the last-delivered id is leased.
 *
 * KEYS: taskIds, delayed, delayedData, stream band 0..9
 * ARGV: group, queue, budget, stop id of band 0..9 ('' = empty band)
 * Returns { deleted, done (1 when nothing is left to delete) }.
 */
export const purgeQueueScript = luaScript(
  "stemPurgeQueue",
  13,
  `
local group, queue, budget = ARGV[1], ARGV[2], tonumber(ARGV[3])
local removed = 0

-- Ids among \`ids\` that taskIds records for this queue.
local function owned(ids)
  local mine = {}
  local owners = redis.call('HMGET', KEYS[1], unpack(ids))
  for i, id in ipairs(ids) do
    if owners[i] == queue then mine[#mine + 1] = id end
  end
  return mine
end

local function forget(ids)
  if #ids == 0 then return end
  local mine = owned(ids)
  if #mine > 0 then redis.call('HDEL', KEYS[1], unpack(mine)) end
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
  local stream, stop = KEYS[4 + band], ARGV[4 + band]
  if budget > 0 and stop ~= '' then
    local last = last_delivered(stream)
    local entries = redis.call('XRANGE', stream, last and ('(' .. last) or '-', stop, 'COUNT', budget)
    if #entries > 0 then
      local entry_ids, task_ids = {}, {}
      for _, item in ipairs(entries) do
        entry_ids[#entry_ids + 1] = item[1]
        local fields = item[2]
        for i = 1, #fields, 2 do
          if fields[i] == 'id' then task_ids[#task_ids + 1] = fields[i + 1] end
        end
      end
      forget(task_ids)
      redis.call('XDEL', stream, unpack(entry_ids))
      removed = removed + #entry_ids
      budget = budget - #entry_ids
    end
  end
end

if budget > 0 then
  local ids = redis.call('ZRANGE', KEYS[2], 0, budget - 1)
  if #ids > 0 then
    forget(ids)
    redis.call('ZREM', KEYS[2], unpack(ids))
    redis.call('HDEL', KEYS[3], unpack(ids))
    removed = removed + #ids
    budget = budget - #ids
  end
end
return { removed, budget > 0 and 1 or 0 }
`,
);

/**
 * Purges a queue in chunks of PURGE_CHUNK entries, one script call each, up to the
 * entries each band held when the purge began. Returns how many tasks were deleted.
 */
export async function purgeQueue(
  client: RedisClient,
  taskIds: string,
  group: string,
  queue: string,
  keys: QueueKeys,
): Promise<number> {
  const newest = client.pipeline();
  for (const stream of keys.streams) newest.xrevrange(stream, "+", "-", "COUNT", 1);
  const stops = ((await execPipeline(newest)) as [string, string[]][][]).map(
    (entries) => entries[0]?.[0] ?? "",
  );
  let total = 0;
  for (;;) {
    const [removed, done] = await runScript<[number, number]>(
      client,
      purgeQueueScript,
      [taskIds, keys.delayed, keys.delayedData, ...keys.streams],
      [group, queue, PURGE_CHUNK, ...stops],
    );
    total += removed;
    if (done === 1) return total;
  }
}
