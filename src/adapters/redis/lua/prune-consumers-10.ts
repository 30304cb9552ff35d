import { luaScript } from "../scripts.ts";

/**
 * Removes consumers with nothing pending that have been idle longer than `idleMs` from a
 * queue's groups, so consumer names of workers long gone do not pile up.
 *
 * KEYS: stream band 0..9
 * ARGV: group, idleMs
 * Returns how many consumers were removed.
 */
export const pruneConsumersScript = luaScript(
  "stemPruneConsumers",
  10,
  `
local group, idle_ms = ARGV[1], tonumber(ARGV[2])
local removed = 0
for band = 1, 10 do
  local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[band], group)
  if not consumers.err then
    for _, info in ipairs(consumers) do
      local name, pending, idle = nil, 0, 0
      for i = 1, #info, 2 do
        if info[i] == 'name' then name = info[i + 1] end
        if info[i] == 'pending' then pending = info[i + 1] end
        if info[i] == 'idle' then idle = info[i + 1] end
      end
      if name and pending == 0 and idle > idle_ms then
        redis.call('XGROUP', 'DELCONSUMER', KEYS[band], group, name)
        removed = removed + 1
      end
    end
  end
end
return removed
`,
);
