/**
 * A fixed-capacity open-addressing map from u64 keys, given as (lo, hi) u32 halves, to
 * non-negative int32 values. Linear probing with backward-shift deletion, so no tombstones build
 * up in a cache that evicts all day.
 * @internal
 */
export class PairMap {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  size = 0;

  /** `maxEntries`: most keys held at once (the table is sized to twice that, a power of two). */
  constructor(maxEntries: number) {
    let cap = 16;
    while (cap < maxEntries * 2) cap *= 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  /** The value of the key, or -1. */
  get(lo: number, hi: number): number {
    let i = this.home(lo, hi);
    for (;;) {
      const v = this.vals[i]!;
      if (v < 0) return -1;
      if (this.lo[i] === lo && this.hi[i] === hi) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets the key's value (the caller keeps `size` within `maxEntries`). */
  set(lo: number, hi: number, value: number): void {
    let i = this.home(lo, hi);
    for (;;) {
      const v = this.vals[i]!;
      if (v < 0) {
        this.lo[i] = lo;
        this.hi[i] = hi;
        this.vals[i] = value;
        this.size++;
        return;
      }
      if (this.lo[i] === lo && this.hi[i] === hi) {
        this.vals[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Removes the key; false when absent. */
  delete(lo: number, hi: number): boolean {
    let i = this.home(lo, hi);
    for (;;) {
      if (this.vals[i]! < 0) return false;
      if (this.lo[i] === lo && this.hi[i] === hi) break;
      i = (i + 1) & this.mask;
    }
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.vals[j]! < 0) break;
      const home = this.home(this.lo[j]!, this.hi[j]!);
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      this.lo[hole] = this.lo[j]!;
      this.hi[hole] = this.hi[j]!;
      this.vals[hole] = this.vals[j]!;
      hole = j;
    }
    this.vals[hole] = -1;
    this.size--;
    return true;
  }

  private home(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }
}
