import { luaScript } from "../scripts.ts";
import { PUBLISH_ENVELOPES, STORE_STATUSES } from "./shared.ts";

/**
 * `Broker.publishWithStatusesUnlessStarted` for one queue, atomically: takes the keys and
 * arguments of `publish-with-statuses-17-2n`. A task with a live status keeps it; one whose
 * status shows it started (any state past `queued` and `pending`) is not published either.
 * Returns one flag per envelope: 1 accepted, 0 duplicate or started.
 */
export const publishUnlessStartedScript = luaScript(
  "stemPublishUnlessStarted",
  "variable",
  `${STORE_STATUSES}${PUBLISH_ENVELOPES}
local kept, started = {}, {}
local count = tonumber(ARGV[6])
for n = 0, count - 1 do
  local id, stored = ARGV[7 + 4 * n], redis.call('GET', KEYS[18 + 2 * n])
  if stored then
    kept[id] = true
    local state = cjson.decode(stored).state
    if state ~= 'queued' and state ~= 'pending' then started[id] = true end
  end
end
local first_envelope = store_statuses(KEYS[1], KEYS[2], 18, 3, kept)
return publish_envelopes(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], 8, ARGV[1], ARGV[2], first_envelope, started)
`,
);
