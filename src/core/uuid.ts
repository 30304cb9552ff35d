/**
 * Time-ordered ids (UUID version 7, RFC 9562): task, run and request ids sort by creation
 * time. Bun makes them natively; elsewhere (the producer package on Node) they are built
 * from Web Crypto, with a counter in the random bits so ids made in the same millisecond
 * still sort in the order they were made.
 */
let lastMs = 0;
let counter = 0;

/** The Web Crypto version, used where Bun is not (exported for its test). */
export function portableUuidv7(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    counter++;
    // 12 bits of counter per millisecond; past them, borrow the next millisecond.
    if (counter > 0xfff) {
      ms = ++lastMs;
      counter = 0;
    }
  } else {
    lastMs = ms;
    counter = 0;
  }
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (counter >> 8); // version 7, then the counter's high bits
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f); // the RFC variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new UUIDv7. */
export const uuidv7: () => string =
  typeof Bun === "undefined" ? portableUuidv7 : () => Bun.randomUUIDv7();
