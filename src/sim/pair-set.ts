/**
 * An open-addressing set of u64 values given as (lo, hi) u32 halves; used to compute the ideal
 * (infinite-cache) hit rate of a workload without a JS object per block.
 * @internal
 */
export class PairSet {
  private keys: Uint32Array;
  private used: Uint8Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Uint32Array(cap * 2);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  has(lo: number, hi: number): boolean {
    let i = this.slot(lo, hi);
    while (this.used[i] === 1) {
      if (this.keys[2 * i] === lo && this.keys[2 * i + 1] === hi) return true;
      i = (i + 1) & this.mask;
    }
    return false;
  }

  /** Adds the value; false when it was already present. */
  add(lo: number, hi: number): boolean {
    if ((this.size + 1) * 2 > this.used.length) this.grow();
    let i = this.slot(lo, hi);
    while (this.used[i] === 1) {
      if (this.keys[2 * i] === lo && this.keys[2 * i + 1] === hi) return false;
      i = (i + 1) & this.mask;
    }
    this.used[i] = 1;
    this.keys[2 * i] = lo;
    this.keys[2 * i + 1] = hi;
    this.size++;
    return true;
  }

  private slot(lo: number, hi: number): number {
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldUsed = this.used;
    const cap = oldUsed.length * 2;
    this.keys = new Uint32Array(cap * 2);
    this.used = new Uint8Array(cap);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldUsed.length; i++) if (oldUsed[i] === 1) this.add(oldKeys[2 * i]!, oldKeys[2 * i + 1]!);
  }
}
