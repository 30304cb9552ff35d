/** keySlot computes the hash slot a Redis Cluster gives a key. */
import { expect, test } from "bun:test";
import { keySlot } from "../../src/adapters/redis/key-slot.ts";

test("the slot is CRC16-XMODEM of the key modulo 16384", () => {
  // The cluster specification's check value: CRC16 of "123456789" is 0x31C3.
  expect(keySlot("123456789")).toBe(0x31c3 % 16_384);
  // Values CLUSTER KEYSLOT gives.
  expect(keySlot("foo")).toBe(12_182);
  expect(keySlot("bar")).toBe(5061);
  expect(keySlot("")).toBe(0);
});

test("a hash tag decides the slot; an empty or unclosed one does not", () => {
  expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
  expect(keySlot("stem:q:{emails}:s3")).toBe(keySlot("emails"));
  // Only the first "{" counts: "{}" is empty, so the whole key is hashed.
  expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
  expect(keySlot("foo{{bar}}zap")).toBe(keySlot("{bar"));
  expect(keySlot("foo{bar")).not.toBe(keySlot("bar"));
  expect(keySlot("{é}x")).toBe(keySlot("é"));
});
