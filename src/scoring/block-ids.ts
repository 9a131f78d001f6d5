/**
 * Dense ids for u64 keys held as two u32 halves (lo, hi): an open-addressing table with linear
 * probing over typed arrays, deletion by backward shift, ids recycled through a free list. Lets
 * per-block data live in plain arrays indexed by id.
 *
 * @internal
 */
export class BlockIds {
  /** Table slot i at `4i`: id + 1 (0 = empty), lo, hi, unused: one cache line per probe. */
  private t: Uint32Array;
  private mask: number;
  /** Id → its key, to delete by id: lo at `2·id`, hi at `2·id + 1`. */
  private keyOfId = new Uint32Array(128);
  private readonly free: number[] = [];
  /** Ids ever handed out (the next fresh id). */
  private issued = 0;
  /** Keys present. */
  size = 0;

  constructor() {
    this.t = new Uint32Array(64 * 4);
    this.mask = 63;
  }

  /** One more than the largest id handed out: size per-id arrays to this. */
  get idLimit(): number {
    return this.issued;
  }

  private home(lo: number, hi: number): number {
    return (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0) & this.mask;
  }

  /** Id of (lo, hi), or -1 when absent. */
  get(lo: number, hi: number): number {
    const t = this.t;
    let i = this.home(lo, hi);
    for (;;) {
      const o = i << 2;
      const e = t[o]!;
      if (e === 0) return -1;
      if (t[o + 1] === lo && t[o + 2] === hi) return e - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Id of (lo, hi), adding the key when absent. */
  intern(lo: number, hi: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const t = this.t;
    let i = this.home(lo, hi);
    let o: number;
    for (;;) {
      o = i << 2;
      const e = t[o]!;
      if (e === 0) break;
      if (t[o + 1] === lo && t[o + 2] === hi) return e - 1;
      i = (i + 1) & this.mask;
    }
    const id = this.free.length > 0 ? this.free.pop()! : this.issued++;
    if (2 * id + 1 >= this.keyOfId.length) {
      const k = new Uint32Array(this.keyOfId.length * 2);
      k.set(this.keyOfId);
      this.keyOfId = k;
    }
    this.keyOfId[2 * id] = lo;
    this.keyOfId[2 * id + 1] = hi;
    t[o] = id + 1;
    t[o + 1] = lo;
    t[o + 2] = hi;
    this.size++;
    return id;
  }

  /** Removes the key of a live id; the id may be handed out again. */
  release(id: number): void {
    const t = this.t;
    let i = this.home(this.keyOfId[2 * id]!, this.keyOfId[2 * id + 1]!);
    for (;;) {
      const e = t[i << 2]!;
      if (e === 0) return; // not present: nothing to do
      if (e === id + 1) break;
      i = (i + 1) & this.mask;
    }
    this.deleteAt(i);
    this.free.push(id);
    this.size--;
  }

  private deleteAt(hole: number): void {
    const mask = this.mask;
    const t = this.t;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const oj = j << 2;
      if (t[oj] === 0) break;
      const home = this.home(t[oj + 1]!, t[oj + 2]!);
      // Entry j may move to `hole` unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      const oh = hole << 2;
      t[oh] = t[oj]!;
      t[oh + 1] = t[oj + 1]!;
      t[oh + 2] = t[oj + 2]!;
      hole = j;
    }
    t[hole << 2] = 0;
  }

  private grow(): void {
    const old = this.t;
    const cap = (this.mask + 1) * 2;
    const t = (this.t = new Uint32Array(cap * 4));
    this.mask = cap - 1;
    for (let o = 0; o < old.length; o += 4) {
      const e = old[o]!;
      if (e === 0) continue;
      let i = this.home(old[o + 1]!, old[o + 2]!);
      while (t[i << 2] !== 0) i = (i + 1) & this.mask;
      const n = i << 2;
      t[n] = e;
      t[n + 1] = old[o + 1]!;
      t[n + 2] = old[o + 2]!;
    }
  }
}
