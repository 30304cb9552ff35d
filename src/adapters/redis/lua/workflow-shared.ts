/**
 * Lua helpers included at the top of the workflow store scripts.
 *
 * Conventions shared by every workflow script:
 * - ARGV[1] is the store's key prefix (`RedisKeys.workflowPrefix`, `<prefix>:wf:`); the
 *   keys that depend on stored values (a run's old status or topic) are built from it
 *   here exactly as `RedisKeys` builds them;
 * - a run is a HASH whose fields are the WorkflowRun fields (JSON ones as JSON text, a
 *   null field is absent), plus `dueAt` (its due time, internal) and, while an event
 *   watcher is registered, `watchStep`, `watchTopic`, `watchData` (JSON), `watchResume`
 *   (the watcher data as JSON without its closing brace and without the keys a
 *   delivery sets), `watchCreatedAt` and `watchDeadline`;
 * - numbers arrive as decimal strings from JavaScript and are stored as given, so Lua
 *   never formats a timestamp itself;
 * - `save_run` writes a changed run and keeps every index in step with it.
 */

/**
 * Key builders, `load_run`, `copy_run`, `fenced`, `clear_waits`, `clear_watcher`,
 * `resolve_watcher`, `take_event`, `apply_patch`, `save_run`.
 */
export const WORKFLOW_RUN = `
local WF = ARGV[1]
local FINISHED = { completed = true, failed = true, cancelled = true }
local WATCH_FIELDS = { 'watchStep', 'watchTopic', 'watchData', 'watchResume', 'watchCreatedAt', 'watchDeadline' }

local function run_key(id) return WF .. 'run:{' .. id .. '}' end
local function status_key(status) return WF .. 'status:' .. status end
local function watchers_key(topic) return WF .. 'watchers:{' .. topic .. '}' end
local function waiting_key(topic) return WF .. 'waiting:{' .. topic .. '}' end

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

-- Applies the patch in ARGV from index i: a count n, n (field, value) pairs to set, then
-- the fields to delete (to the end of ARGV).
local function apply_patch(run, i)
  local n = tonumber(ARGV[i])
  for k = 0, n - 1 do run[ARGV[i + 1 + 2 * k]] = ARGV[i + 2 + 2 * k] end
  for k = i + 1 + 2 * n, #ARGV do run[ARGV[k]] = nil end
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
    if old.status then redis.call('ZREM', status_key(old.status), id) end
    redis.call('ZADD', status_key(run.status), run.createdAt, id)
  end
  if run.status == 'running' then
    redis.call('ZADD', WF .. 'running', run.updatedAt, id)
  elseif old.status == 'running' then
    redis.call('ZREM', WF .. 'running', id)
  end
  if run.status == 'suspended' and run.dueAt then
    redis.call('ZADD', WF .. 'due', run.dueAt, id)
  elseif old.status == 'suspended' and old.dueAt then
    redis.call('ZREM', WF .. 'due', id)
  end
  local old_wait = old.status == 'suspended' and old.waitTopic or nil
  local new_wait = run.status == 'suspended' and run.waitTopic or nil
  if old_wait and old_wait ~= new_wait then redis.call('ZREM', waiting_key(old_wait), id) end
  if new_wait then redis.call('ZADD', waiting_key(new_wait), run.updatedAt, id) end
  if old.watchTopic and old.watchTopic ~= run.watchTopic then
    redis.call('ZREM', watchers_key(old.watchTopic), id)
  end
  if run.watchTopic then redis.call('ZADD', watchers_key(run.watchTopic), run.watchCreatedAt, id) end
end
`;
