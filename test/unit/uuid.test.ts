import { expect, test } from "bun:test";
import { portableUuidv7 } from "../../src/core/uuid.ts";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("the portable UUIDv7 has the version and variant bits, and the time in its first 48 bits", () => {
  const before = Date.now();
  const id = portableUuidv7();
  expect(id).toMatch(UUID_V7);
  const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
  expect(ms).toBeGreaterThanOrEqual(before);
  expect(ms).toBeLessThanOrEqual(Date.now() + 1);
});

test("portable UUIDv7s made in a burst are distinct and sort in the order they were made", () => {
  const ids = Array.from({ length: 20_000 }, () => portableUuidv7());
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
  for (const id of ids) expect(id).toMatch(UUID_V7);
});
