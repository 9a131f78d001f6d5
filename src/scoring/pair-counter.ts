/**
 * Reference counts keyed by a u64 held as two u32 halves (lo, hi): an open-addressing table with
 * linear probing over typed arrays, deletion by backward shift (no tombstones). Used to count the
 * blocks of a worker's in-flight requests once, however many requests share them.
 *
 * @internal
 */
export class PairCounter {
  private lo: Uint32Array;
  private hi: Uint32Array;
  /** 0 = empty slot. */
  private counts: Uint32Array;
  private mask: number;
  /** Distinct keys with a count > 0. */
  size = 0;

  constructor(initialCapacity = 64) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.counts = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  private slot(lo: number, hi: number): number {
    // The halves are already hash output: mix them cheaply and mask.
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask;
  }

  /** Count of (lo, hi); 0 when absent. */
  get(lo: number, hi: number): number {
    let i = this.slot(lo, hi);
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) return 0;
      if (this.lo[i] === lo && this.hi[i] === hi) return c;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds one to (lo, hi); returns true when the key is new (count went 0 → 1). */
  increment(lo: number, hi: number): boolean {
    if ((this.size + 1) * 2 > this.counts.length) this.grow();
    let i = this.slot(lo, hi);
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.lo[i] = lo;
        this.hi[i] = hi;
        this.counts[i] = 1;
        this.size++;
        return true;
      }
      if (this.lo[i] === lo && this.hi[i] === hi) {
        this.counts[i] = c + 1;
        return false;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Subtracts one from (lo, hi); returns true when the key is gone (count went 1 → 0). Absent keys: false. */
  decrement(lo: number, hi: number): boolean {
    let i = this.slot(lo, hi);
    for (;;) {
      const c = this.counts[i]!;
      if (c === 0) return false;
      if (this.lo[i] === lo && this.hi[i] === hi) break;
      i = (i + 1) & this.mask;
    }
    const c = this.counts[i]!;
    if (c > 1) {
      this.counts[i] = c - 1;
      return false;
    }
    this.deleteAt(i);
    this.size--;
    return true;
  }

  private deleteAt(hole: number): void {
    // Backward-shift deletion: move later entries of the probe run into the hole when their home allows.
    const mask = this.mask;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      if (this.counts[j] === 0) break;
      const home = this.slot(this.lo[j]!, this.hi[j]!);
      // Entry j may move to `hole` unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      this.lo[hole] = this.lo[j]!;
      this.hi[hole] = this.hi[j]!;
      this.counts[hole] = this.counts[j]!;
      hole = j;
    }
    this.counts[hole] = 0;
  }

  private grow(): void {
    const oldLo = this.lo;
    const oldHi = this.hi;
    const oldCounts = this.counts;
    const cap = oldCounts.length * 2;
    this.lo = new Uint32Array(cap);
    this.hi = new Uint32Array(cap);
    this.counts = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let k = 0; k < oldCounts.length; k++) {
      const c = oldCounts[k]!;
      if (c === 0) continue;
      let i = this.slot(oldLo[k]!, oldHi[k]!);
      while (this.counts[i] !== 0) i = (i + 1) & this.mask;
      this.lo[i] = oldLo[k]!;
      this.hi[i] = oldHi[k]!;
      this.counts[i] = c;
    }
  }
}
