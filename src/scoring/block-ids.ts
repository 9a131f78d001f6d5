/**
 * Dense ids for u64 keys held as two u32 halves (lo, hi): an open-addressing table with linear
 * probing over typed arrays, deletion by backward shift, ids recycled through a free list. Lets
 * per-block data live in plain arrays indexed by id.
 *
 * @internal
 */
export class BlockIds {
  /** Table slot → id + 1 (0 = empty). */
  private table: Int32Array;
  private tableLo: Uint32Array;
  private tableHi: Uint32Array;
  private mask: number;
  /** Id → its key, to delete by id. */
  private idLo = new Uint32Array(64);
  private idHi = new Uint32Array(64);
  private readonly free: number[] = [];
  /** Ids ever handed out (the next fresh id). */
  private issued = 0;
  /** Keys present. */
  size = 0;

  constructor() {
    this.table = new Int32Array(64);
    this.tableLo = new Uint32Array(64);
    this.tableHi = new Uint32Array(64);
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
    const table = this.table;
    let i = this.home(lo, hi);
    for (;;) {
      const e = table[i]!;
      if (e === 0) return -1;
      if (this.tableLo[i] === lo && this.tableHi[i] === hi) return e - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Id of (lo, hi), adding the key when absent. */
  intern(lo: number, hi: number): number {
    if ((this.size + 1) * 2 > this.table.length) this.grow();
    const table = this.table;
    let i = this.home(lo, hi);
    for (;;) {
      const e = table[i]!;
      if (e === 0) break;
      if (this.tableLo[i] === lo && this.tableHi[i] === hi) return e - 1;
      i = (i + 1) & this.mask;
    }
    const id = this.free.length > 0 ? this.free.pop()! : this.issued++;
    if (id >= this.idLo.length) {
      const lo2 = new Uint32Array(this.idLo.length * 2);
      const hi2 = new Uint32Array(this.idLo.length * 2);
      lo2.set(this.idLo);
      hi2.set(this.idHi);
      this.idLo = lo2;
      this.idHi = hi2;
    }
    this.idLo[id] = lo;
    this.idHi[id] = hi;
    table[i] = id + 1;
    this.tableLo[i] = lo;
    this.tableHi[i] = hi;
    this.size++;
    return id;
  }

  /** Removes the key of a live id; the id may be handed out again. */
  release(id: number): void {
    const lo = this.idLo[id]!;
    const hi = this.idHi[id]!;
    let i = this.home(lo, hi);
    for (;;) {
      const e = this.table[i]!;
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
    const table = this.table;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      if (table[j] === 0) break;
      const home = this.home(this.tableLo[j]!, this.tableHi[j]!);
      // Entry j may move to `hole` unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      table[hole] = table[j]!;
      this.tableLo[hole] = this.tableLo[j]!;
      this.tableHi[hole] = this.tableHi[j]!;
      hole = j;
    }
    table[hole] = 0;
  }

  private grow(): void {
    const oldTable = this.table;
    const oldLo = this.tableLo;
    const oldHi = this.tableHi;
    const cap = oldTable.length * 2;
    this.table = new Int32Array(cap);
    this.tableLo = new Uint32Array(cap);
    this.tableHi = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let k = 0; k < oldTable.length; k++) {
      const e = oldTable[k]!;
      if (e === 0) continue;
      let i = this.home(oldLo[k]!, oldHi[k]!);
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = e;
      this.tableLo[i] = oldLo[k]!;
      this.tableHi[i] = oldHi[k]!;
    }
  }
}
