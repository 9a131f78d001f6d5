/**
 * Small helpers shared by the index's typed-array tables: growth and key mixing.
 *
 * @internal
 */

/** Mixes three u32 words into a well-spread 32-bit hash (table keys are often small or sequential). @internal */
export function mix3(a: number, b: number, c: number): number {
  let h = a ^ Math.imul(b, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ c;
  // murmur3 finalizer: every input bit reaches the low bits used as the table index.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A copy of `a` with room for `capacity` elements. @internal */
export function growI32(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

/** A copy of `a` with room for `capacity` elements. @internal */
export function growU32(a: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

/** A copy of `a` with room for `capacity` elements. @internal */
export function growU8(a: Uint8Array, capacity: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

/** Smallest power of two ≥ `n` (and ≥ `min`). @internal */
export function pow2AtLeast(n: number, min: number): number {
  let c = min;
  while (c < n) c *= 2;
  return c;
}
