/**
 * UUIDv7 event ids (RFC 9562), monotonic within this process: 48-bit Unix milliseconds, then a
 * 32-bit counter spread over rand_a and the top of rand_b (the layout of the `uuid` package's v7:
 * a random start each millisecond, +1 per id within it), then random bits. Ids made later sort
 * later, which keeps the id index's inserts at its right edge.
 *
 * Written here rather than taken from `uuid` because emit makes one per event: this draws random
 * bytes 4 KiB at a time and allocates nothing but the string (the package allocates two byte
 * arrays per id and refills its 256-byte pool every 16 ids), about 0.2 µs per id instead of 0.6.
 */
import { randomFillSync } from "node:crypto";

const HEX = Array.from({ length: 256 }, (_, i) => (i + 0x100).toString(16).slice(1));
const pool = new Uint8Array(4096);
let at = pool.length;
let lastMs = -1;
let seq = 0;

/** Offset of `n` fresh random bytes in the pool. */
function take(n: number): number {
  if (at > pool.length - n) {
    randomFillSync(pool);
    at = 0;
  }
  const r = at;
  at += n;
  return r;
}

export function uuidv7(now = Date.now()): string {
  const r = take(10);
  if (now > lastMs) {
    // A fresh random start leaves room to count up within the millisecond.
    seq = ((pool[r]! << 23) | (pool[r + 1]! << 16) | (pool[r + 2]! << 8) | pool[r + 3]!) >>> 0;
    lastMs = now;
  } else {
    seq = (seq + 1) >>> 0;
    // 2^32 ids in one millisecond: borrow the next one, as the uuid package does.
    if (seq === 0) lastMs++;
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x100000000);
  const lo = ms >>> 0;
  return (
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[lo >>> 24]! +
    HEX[(lo >>> 16) & 0xff]! +
    "-" +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    "-" +
    HEX[0x70 | ((seq >>> 28) & 0x0f)]! +
    HEX[(seq >>> 20) & 0xff]! +
    "-" +
    HEX[0x80 | ((seq >>> 14) & 0x3f)]! +
    HEX[(seq >>> 6) & 0xff]! +
    "-" +
    HEX[((seq << 2) & 0xff) | (pool[r + 4]! & 0x03)]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]! +
    HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  );
}
