/**
 * The Redis Cluster hash slot of a key, as the cluster computes it: CRC16 (XMODEM) of the
 * key, or of its hash tag (the text between the first `{` and the next `}`, when that is
 * not empty), modulo 16384.
 */

const SLOTS = 16_384;

/** CRC16-XMODEM (polynomial 0x1021, initial value 0) of each byte value. */
const TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  return crc & 0xffff;
});

const encoder = new TextEncoder();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[(crc >> 8) ^ byte];
  return crc;
}

/** The hash slot of `key`. */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(encoder.encode(key)) % SLOTS;
}
