/**
 * Lua helpers included at the top of the workflow store scripts that change runs.
 *
 * Conventions shared by those scripts (every key a script touches arrives in KEYS, as a
 * Redis Cluster needs):
 * - KEYS: the script's own keys (`ownKeys` of them), then the run indexes
 *   (WORKFLOW_INDEX_KEYS: runs per status in WORKFLOW_STATUSES order, running runs, due
 *   runs), then per topic its waiting and watchers keys, then per run id its run key
 *   (so `update-workflow-run-8-2t`: 1 + 7 keys, 2 per topic; `-n`: 1 per run);
 * - ARGV: the topic count and the topics, the run id count and the ids, in the order of
 *   their keys, then the script's own arguments, which it reads from `ARG`;
 * - a script needs the keys of the topics a run it changes waits on or watches (stored
 *   values) and of the runs it finds in an index. Before its first write it calls
 *   `lacking_keys`: when some are missing it writes nothing and returns
 *   `{ WORKFLOW_STALE, run ids, topics }`, and the caller runs it again with those added;
 * - a run is a HASH whose fields are the WorkflowRun fields (JSON ones as JSON text, a
 *   null field is absent), plus `dueAt` (its due time, internal) and, while an event
 *   watcher is registered, `watchStep`, `watchTopic`, `watchData` (JSON), `watchResume`
 *   (the watcher data as JSON without its closing brace and without the keys a
 *   delivery sets), `watchCreatedAt` and `watchDeadline`;
 * - numbers arrive as decimal strings from JavaScript and are stored as given, so Lua
 *   never formats a timestamp itself;
 * - `save_run` writes a changed run and keeps every index in step with it.
 */
import type { WorkflowStatus } from "../../workflow-contracts.ts";

/** Every run status, in the order of their index keys in KEYS. */
export const WORKFLOW_STATUSES: readonly WorkflowStatus[] = [
  "running",
  "suspended",
  "completed",
  "failed",
  "cancelled",
];

/** WORKFLOW_STATUSES as the items of a Lua table constructor. */
export const WORKFLOW_STATUSES_LUA = WORKFLOW_STATUSES.map((status) => `'${status}'`).join(", ");

/** How many run index keys follow a script's own keys: one per status, running, due. */
export const WORKFLOW_INDEX_KEYS = WORKFLOW_STATUSES.length + 2;

/** The first element of a script's reply when it lacks keys (see the conventions). */
export const WORKFLOW_STALE = -3;

/**
 * The key tables (`RUN_IDS`: the run ids given, in order), `ARG`, `load_run`,
 * `copy_run`, `fenced`, `lacking_keys`, `clear_waits`, `clear_watcher`,
 * `resolve_watcher`, `take_event`, `apply_patch`, `save_run`, for a script with
 * `ownKeys` keys of its own.
 */
export function workflowRunLua(ownKeys: number): string {
  return `
local OWN = ${ownKeys}
local STALE = ${WORKFLOW_STALE}
local FINISHED = { completed = true, failed = true, cancelled = true }
local WATCH_FIELDS = { 'watchStep', 'watchTopic', 'watchData', 'watchResume', 'watchCreatedAt', 'watchDeadline' }

-- Keys by status, topic and run id, from KEYS and ARGV as the conventions lay them out.
local STATUS_KEY, WAITING_KEY, WATCHERS_KEY, RUN_KEY, RUN_IDS, ARG = {}, {}, {}, {}, {}, {}
for i, status in ipairs({ ${WORKFLOW_STATUSES_LUA} }) do STATUS_KEY[status] = KEYS[OWN + i] end
local RUNNING_KEY = KEYS[OWN + ${WORKFLOW_INDEX_KEYS - 1}]
local DUE_KEY = KEYS[OWN + ${WORKFLOW_INDEX_KEYS}]
do
  local k, a = OWN + ${WORKFLOW_INDEX_KEYS}, 1
  for _ = 1, tonumber(ARGV[a]) do
    a = a + 1
    WAITING_KEY[ARGV[a]] = KEYS[k + 1]
    WATCHERS_KEY[ARGV[a]] = KEYS[k + 2]
    k = k + 2
  end
  a = a + 1
  for _ = 1, tonumber(ARGV[a]) do
    a = a + 1
    k = k + 1
    RUN_KEY[ARGV[a]] = KEYS[k]
    RUN_IDS[#RUN_IDS + 1] = ARGV[a]
  end
  for i = a + 1, #ARGV do ARG[#ARG + 1] = ARGV[i] end
end

-- keys[name]; a missing one is a bug (lacking_keys runs first), so fail loudly.
local function key_of(keys, name)
  local key = keys[name]
  if not key then error('workflow script was not given the key for ' .. name) end
  return key
end

-- nil when the script has the key of every run in ids and of every topic a run in runs
-- (as loaded, and as it will be saved) waits on or watches; otherwise the reply that
-- asks for the missing ones. Call it before the first write.
local function lacking_keys(ids, runs)
  local need_ids, need_topics, seen = {}, {}, {}
  for _, id in ipairs(ids) do
    if not RUN_KEY[id] then need_ids[#need_ids + 1] = id end
  end
  local function need(topic)
    if topic and not WAITING_KEY[topic] and not seen[topic] then
      seen[topic] = true
      need_topics[#need_topics + 1] = topic
    end
  end
  for _, run in ipairs(runs) do
    need(run.waitTopic)
    need(run.watchTopic)
  end
  if #need_ids == 0 and #need_topics == 0 then return nil end
  return { STALE, need_ids, need_topics }
end

-- The run stored at key as a table of fields, or nil when there is none.
local function load_run(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local run = {}
  for i = 1, #flat, 2 do run[flat[i]] = flat[i + 1] end
  return run
end

local function copy_run(run)
  local copy = {}
  for field, value in pairs(run) do copy[field] = value end
  return copy
end

-- Whether a write fenced with claim token 'fence' ('' = not fenced) is refused: the run
-- has been claimed by another execution since.
local function fenced(run, fence)
  return fence ~= '' and tonumber(fence) ~= tonumber(run.fencingToken or '0')
end

local function clear_waits(run)
  run.waitTopic = nil
  run.resumeAt = nil
  run.dueAt = nil
end

local function clear_watcher(run)
  for _, field in ipairs(WATCH_FIELDS) do run[field] = nil end
end

-- Resolves the run's registered watcher with an event (as markResumed with the resume
-- data: the watcher's data plus payload, topic and deliveredAt); returns the step and the
-- resume data JSON. The run must not be finished.
local function resolve_watcher(run, payload, topic_json, now)
  local resume = run.watchResume
  if resume ~= '{' then resume = resume .. ','  end
  resume = resume .. '"payload":' .. payload .. ',"topic":' .. topic_json .. ',"deliveredAt":' .. now .. '}'
  local step = run.watchStep
  clear_watcher(run)
  run.status = 'running'
  run.suspensionData = resume
  clear_waits(run)
  run.updatedAt = now
  return step, resume
end

-- Takes the oldest event kept in the list at key that is still kept at now (elements are
-- 'expiresAt:payloadJson'), dropping expired ones; returns its payload JSON or nil.
local function take_event(key, now)
  while true do
    local item = redis.call('LPOP', key)
    if not item then return nil end
    local sep = string.find(item, ':', 1, true)
    if tonumber(string.sub(item, 1, sep - 1)) > tonumber(now) then
      return string.sub(item, sep + 1)
    end
  end
end

-- Applies the patch in ARG from index i: a count n, n (field, value) pairs to set, then
-- the fields to delete (to the end of ARG).
local function apply_patch(run, i)
  local n = tonumber(ARG[i])
  for k = 0, n - 1 do run[ARG[i + 1 + 2 * k]] = ARG[i + 2 + 2 * k] end
  for k = i + 1 + 2 * n, #ARG do run[ARG[k]] = nil end
end

-- Writes run (changed from old, the fields as loaded) and updates the indexes: runs by
-- status, running runs by updatedAt, suspended runs by due time, suspended runs waiting
-- on a topic by updatedAt, watchers by topic. A run that no longer waits on a topic
-- loses its watcher.
local function save_run(key, run, old)
  if not run.waitTopic then clear_watcher(run) end
  local id = run.id
  local sets, dels = {}, {}
  for field, value in pairs(run) do
    if old[field] ~= value then
      sets[#sets + 1] = field
      sets[#sets + 1] = value
    end
  end
  for field in pairs(old) do
    if run[field] == nil then dels[#dels + 1] = field end
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  if #dels > 0 then redis.call('HDEL', key, unpack(dels)) end

  if old.status ~= run.status then
    if old.status then redis.call('ZREM', key_of(STATUS_KEY, old.status), id) end
    redis.call('ZADD', key_of(STATUS_KEY, run.status), run.createdAt, id)
  end
  if run.status == 'running' then
    redis.call('ZADD', RUNNING_KEY, run.updatedAt, id)
  elseif old.status == 'running' then
    redis.call('ZREM', RUNNING_KEY, id)
  end
  if run.status == 'suspended' and run.dueAt then
    redis.call('ZADD', DUE_KEY, run.dueAt, id)
  elseif old.status == 'suspended' and old.dueAt then
    redis.call('ZREM', DUE_KEY, id)
  end
  local old_wait = old.status == 'suspended' and old.waitTopic or nil
  local new_wait = run.status == 'suspended' and run.waitTopic or nil
  if old_wait and old_wait ~= new_wait then redis.call('ZREM', key_of(WAITING_KEY, old_wait), id) end
  if new_wait then redis.call('ZADD', key_of(WAITING_KEY, new_wait), run.updatedAt, id) end
  if old.watchTopic and old.watchTopic ~= run.watchTopic then
    redis.call('ZREM', key_of(WATCHERS_KEY, old.watchTopic), id)
  end
  if run.watchTopic then redis.call('ZADD', key_of(WATCHERS_KEY, run.watchTopic), run.watchCreatedAt, id) end
end
`;
}
