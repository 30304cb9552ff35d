import { luaScript } from "../scripts.ts";
import { NOW } from "./shared.ts";

/**
 * Takes one token from a bucket shared by every limiter on the server, on the server
 * clock. The same arithmetic as `takeToken` in src/adapters/token-bucket.ts (the shared
 * reference, checked against this script by test/unit/redis-token-bucket.test.ts), run
 * here so the read-modify-write is atomic. The bucket key expires once it would be full
 * again, which is the same as a missing bucket.
 *
 * KEYS: bucket
 * ARGV: tokens, intervalMs, burst, now ('' = server time; given only by tests)
 * Returns { allowed (1/0), retryAfterMs }.
 */
export const takeTokenScript = luaScript(
  "stemTakeToken",
  1,
  `${NOW}
local rate, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local capacity = math.max(1, tonumber(ARGV[3]))
local per_ms = rate / interval
local now = tonumber(ARGV[4]) or now_ms()
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updatedAt')
local tokens, updated = capacity, now
if state[1] and state[2] then tokens, updated = tonumber(state[1]), tonumber(state[2]) end
tokens = math.min(capacity, tokens + math.max(0, now - updated) * per_ms)
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updatedAt', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / per_ms) + 1000)
return { allowed, retry }
`,
);
