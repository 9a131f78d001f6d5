/**
 * Small helpers shared by the index's typed-array tables: growth and key mixing.
 *
 * @internal
 */

/** Mixes three u32 words into a well-spread 32-bit hash (table keys are often small or sequential). @internal */
export function mix3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x27d4eb2f);
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
