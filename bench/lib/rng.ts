/** Seeded, deterministic randomness and integer mixing for the workload generators (no Math.random). */

/** Murmur3's 32-bit finalizer: a fast, well-spread mix of one u32. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A u32 that depends on all three inputs (each an integer; only its low 32 bits count). */
export function mix3(a: number, b: number, c: number): number {
  let h = fmix32((a ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ Math.imul(b | 0, 0x27d4eb2f)) >>> 0);
  return fmix32((h ^ Math.imul(c | 0, 0x165667b1) ^ 0x5bd1e995) >>> 0);
}

/** A u64 as a bigint built from two u32 halves. */
export function u64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** mulberry32: small, fast, seeded PRNG. */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = fmix32(seed >>> 0) || 0x6d2b79f5;
  }
  /** A u32. */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** An integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An index in [0, n) with Zipf-like popularity (exponent s): low indices are picked most. */
  zipf(n: number, s = 1.1): number {
    // Inverse-CDF on the continuous approximation; good enough for workload shaping.
    const u = this.next();
    if (s === 1) return Math.min(n - 1, Math.floor(Math.exp(u * Math.log(n + 1)) - 1));
    const a = 1 - s;
    const x = Math.pow(u * (Math.pow(n + 1, a) - 1) + 1, 1 / a) - 1;
    return Math.min(n - 1, Math.max(0, Math.floor(x)));
  }
}
