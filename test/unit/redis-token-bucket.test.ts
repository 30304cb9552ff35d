/**
 * The Redis limiter runs the token bucket in Lua (atomic on the server); this checks it
 * makes the same decisions as the shared arithmetic in src/adapters/token-bucket.ts, by
 * feeding both the same clock.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { type BucketRate, type BucketState, takeToken } from "../../src/adapters/token-bucket.ts";
import {
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "../e2e/fixtures/redis-server.ts";

const prefix = randomPrefix("bucket");
let conn: RedisConnection;

beforeAll(async () => {
  await requireRedis();
  conn = await openTestConnection(prefix);
});
afterAll(async () => {
  await conn?.close();
  await deletePrefix(prefix);
});

const cases: [string, BucketRate, number[]][] = [
  [
    "one per second",
    { tokens: 1, intervalMs: 1000 },
    [0, 0, 400, 999, 1000, 1001, 2500, 2600, 9000],
  ],
  [
    "ten per second, burst 3",
    { tokens: 10, intervalMs: 1000, burst: 3 },
    [0, 1, 2, 3, 4, 50, 99, 100, 250, 251, 252, 253, 800],
  ],
  [
    "three per minute, burst 2",
    { tokens: 3, intervalMs: 60_000, burst: 2 },
    [0, 10, 20, 19_999, 20_000, 20_001, 45_000, 65_000],
  ],
];

for (const [label, rate, offsets] of cases) {
  test(`the Lua bucket decides like takeToken: ${label}`, async () => {
    const limiter = conn.rateLimiter();
    const key = `parity-${label}`;
    const start = 1_700_000_000_000;
    let state: BucketState | null = null;
    for (const offset of offsets) {
      const now = start + offset;
      const expected = takeToken(state, rate, now);
      state = expected.state;
      const got = await limiter.take(key, rate, now);
      expect({ at: offset, allowed: got.allowed }).toEqual({
        at: offset,
        allowed: expected.allowed,
      });
      expect(Math.abs(got.retryAfterMs - expected.retryAfterMs)).toBeLessThanOrEqual(1);
    }
  });
}

test("a bucket key expires once the bucket would be full again", async () => {
  const key = "expiring";
  await conn.rateLimiter().acquire(key, { tokens: 1, intervalMs: 500 });
  const ttl = await conn.client.pttl(conn.keys.rateBucket(key));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(1500);
});

test("a rate without tokens or interval is refused clearly", async () => {
  await expect(conn.rateLimiter().acquire("bad", { tokens: 0, intervalMs: 1000 })).rejects.toThrow(
    /tokens > 0 and intervalMs > 0/,
  );
});
