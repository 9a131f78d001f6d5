/**
 * The simulated engine's own block hashes: a chained 64-bit hash of (parent hash, block tokens),
 * computed as two independent 32-bit lanes. Like vLLM's, it names a block together with its whole
 * prefix and is opaque to the router (which hashes token ids itself).
 * @internal
 */
export function chainBlockHash(
  parentLo: number,
  parentHi: number,
  tokens: Uint32Array,
  start: number,
  blockSize: number,
  out: Uint32Array,
  outAt: number,
): void {
  let a = (parentLo ^ 0x243f6a88) | 0;
  let b = (parentHi ^ 0x85a308d3) | 0;
  a = Math.imul(a ^ (parentHi >>> 7), 0x9e3779b1);
  b = Math.imul(b ^ (parentLo >>> 11), 0x7feb352d);
  for (let i = start, end = start + blockSize; i < end; i++) {
    const t = tokens[i]!;
    let k = Math.imul(t, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let m = Math.imul(t ^ 0x5bd1e995, 0x846ca68b);
    m ^= m >>> 16;
    b = (Math.imul(b ^ m, 0x01000193) + 0x3c6ef372) | 0;
    b = (b << 11) | (b >>> 21);
  }
  a ^= blockSize;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= a;
  b = Math.imul(b ^ (b >>> 15), 0x2c1b3c6d);
  b = Math.imul(b ^ (b >>> 12), 0x297a2d39);
  b ^= b >>> 15;
  out[outAt] = a >>> 0;
  out[outAt + 1] = b >>> 0;
}
