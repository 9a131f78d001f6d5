/**
 * Reference counts keyed by a u64 held as two u32 halves (lo, hi): an open-addressing table with
 * linear probing over typed arrays, deletion by backward shift (no tombstones). Used to count the
 * blocks of a worker's in-flight requests once, however many requests share them.
 *
 * @internal
 */
export class PairCounter {
  /**
   * Entry i at `4i`: lo, hi, count (0 = empty slot), unused: one cache line per probe instead of
   * one per field.
   */
  private e: Uint32Array;
  private mask: number;
  /** Distinct keys with a count > 0. */
  size = 0;

  constructor(initialCapacity = 64) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.e = new Uint32Array(cap * 4);
    this.mask = cap - 1;
  }

  private slot(lo: number, hi: number): number {
    // The halves are already hash output: mix them cheaply and mask.
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask;
  }

  /** Count of (lo, hi); 0 when absent. */
  get(lo: number, hi: number): number {
    const e = this.e;
    let i = this.slot(lo, hi);
    for (;;) {
      const o = i << 2;
      const c = e[o + 2]!;
      if (c === 0) return 0;
      if (e[o] === lo && e[o + 1] === hi) return c;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds one to (lo, hi); returns true when the key is new (count went 0 → 1). */
  increment(lo: number, hi: number): boolean {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const e = this.e;
    let i = this.slot(lo, hi);
    for (;;) {
      const o = i << 2;
      const c = e[o + 2]!;
      if (c === 0) {
        e[o] = lo;
        e[o + 1] = hi;
        e[o + 2] = 1;
        this.size++;
        return true;
      }
      if (e[o] === lo && e[o + 1] === hi) {
        e[o + 2] = c + 1;
        return false;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Subtracts one from (lo, hi); returns true when the key is gone (count went 1 → 0). Absent keys: false. */
  decrement(lo: number, hi: number): boolean {
    const e = this.e;
    let i = this.slot(lo, hi);
    for (;;) {
      const o = i << 2;
      const c = e[o + 2]!;
      if (c === 0) return false;
      if (e[o] === lo && e[o + 1] === hi) {
        if (c > 1) {
          e[o + 2] = c - 1;
          return false;
        }
        this.deleteAt(i);
        this.size--;
        return true;
      }
      i = (i + 1) & this.mask;
    }
  }

  private deleteAt(hole: number): void {
    // Backward-shift deletion: move later entries of the probe run into the hole when their home allows.
    const mask = this.mask;
    const e = this.e;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const oj = j << 2;
      if (e[oj + 2] === 0) break;
      const home = this.slot(e[oj]!, e[oj + 1]!);
      // Entry j may move to `hole` unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      const oh = hole << 2;
      e[oh] = e[oj]!;
      e[oh + 1] = e[oj + 1]!;
      e[oh + 2] = e[oj + 2]!;
      hole = j;
    }
    e[(hole << 2) + 2] = 0;
  }

  private grow(): void {
    const old = this.e;
    const cap = (this.mask + 1) * 2;
    const e = (this.e = new Uint32Array(cap * 4));
    this.mask = cap - 1;
    for (let o = 0; o < old.length; o += 4) {
      const c = old[o + 2]!;
      if (c === 0) continue;
      let i = this.slot(old[o]!, old[o + 1]!);
      while (e[(i << 2) + 2] !== 0) i = (i + 1) & this.mask;
      const n = i << 2;
      e[n] = old[o]!;
      e[n + 1] = old[o + 1]!;
      e[n + 2] = c;
    }
  }
}
