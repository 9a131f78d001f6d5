/**
 * Block names: the global canonical-name table and the per-cache alias table.
 *
 * A block's first name is its canonical name, found in {@link NameTable} (name → block). A cache whose
 * name for a block is the canonical one just sets the canonical bit in its holder word; any other name
 * is an alias row in {@link AliasTable} (slot, name → block). When engines name a path the same way on
 * every worker (Dynamo, vLLM), names cost nothing per entry. Both tables use open addressing with
 * backward-shift deletion, keyed by the name's u32 halves.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import { mix3, pow2AtLeast } from './tables.js';

/** Seed of the canonical-name hash (also stored per entry: probes and rehashing read it, not the blocks). */
const NAME_SEED = 0x5bd1e995;

/**
 * Canonical names: pairs `[block id, 32-bit hash of its canonical name]` (-1: empty). Probes compare
 * the stored hash before touching the block columns, and rehashing never reads them. Load ≤ 1/2.
 * @internal
 */
export class NameTable {
  /** Pairs of (block id, name hash); the pair count is a power of two. */
  slots: Int32Array;
  /** Names in the table. */
  count = 0;
  /** Keeps {@link NameTable.touch}'s loads observable (never read). */
  private sink = 0;
  /** Home slots computed by {@link NameTable.touchBlocks} (scratch, grown). */
  private homes = new Int32Array(256);
  /** Tentative puts: (slot, the slot's previous hash word) pairs. */
  private undo = new Int32Array(256);
  private undoLen = 0;

  constructor(pairs: number) {
    this.slots = new Int32Array(pairs * 2).fill(-1);
  }

  /** Hash of name (lo, hi) in this table (what {@link NameTable.touch} records for the *Hashed calls). */
  static hash(lo: number, hi: number): number {
    return mix3(NAME_SEED, lo, hi);
  }

  /** The block whose canonical name is (lo, hi), or -1. */
  lookup(lo: number, hi: number, blocks: BlockPool): number {
    return this.lookupHashed(mix3(NAME_SEED, lo, hi), lo, hi, blocks);
  }

  /** {@link NameTable.lookup} given the name's {@link NameTable.hash}. */
  lookupHashed(h: number, lo: number, hi: number, blocks: BlockPool): number {
    const r = this.probe(h, lo, hi, blocks);
    return r < 0 ? -1 : r;
  }


  /**
   * Hashes every name in `pairs[2·from … 2·to)` ((lo, hi) pairs) into `hashes[from … to)` and reads
   * its home slot without branching on what it finds: the loads are independent, so the CPU overlaps
   * their cache misses, and the lookups and inserts that follow find the lines cached (a large table
   * is one miss per probe otherwise). Hashing and loading are separate loops: a load loop of a few
   * instructions per name keeps several times more misses in flight in the CPU's reorder window
   * than one that also runs the hash (measured 68 → 39 ns per name on a 128 MB table).
   */
  touch(pairs: Uint32Array, hashes: Int32Array, from: number, to: number): void {
    const gt = this.slots;
    const mask = (gt.length >> 1) - 1;
    for (let i = from; i < to; i++) hashes[i] = mix3(NAME_SEED, pairs[2 * i]!, pairs[2 * i + 1]!);
    let acc = 0;
    for (let i = from; i < to; i++) acc ^= gt[2 * (hashes[i]! & mask)]!;
    this.sink = acc;
  }

  /** {@link NameTable.touch} for the canonical names of blocks [from, to) (before deleting a run's names). */
  touchBlocks(blocks: BlockPool, from: number, to: number): void {
    const gt = this.slots;
    const mask = (gt.length >> 1) - 1;
    const { canonLo, canonHi } = blocks;
    if (this.homes.length < to - from) this.homes = new Int32Array(pow2AtLeast(to - from, 256));
    const homes = this.homes;
    // Two loops, as in touch: the load loop alone keeps more misses in flight.
    for (let b = from; b < to; b++) homes[b - from] = 2 * (mix3(NAME_SEED, canonLo[b]!, canonHi[b]!) & mask);
    let acc = 0;
    for (let k = 0; k < to - from; k++) acc ^= gt[homes[k]!]!;
    this.sink = acc;
  }

  /** The block whose canonical name is (lo, hi) (table hash `h`), or ~(the empty slot its insert would take). */
  probe(h: number, lo: number, hi: number, blocks: BlockPool): number {
    const gt = this.slots;
    const mask = (gt.length >> 1) - 1;
    let i = h & mask;
    for (;;) {
      const b = gt[2 * i]!;
      if (b < 0) return ~i;
      if (gt[2 * i + 1] === h && blocks.canonLo[b] === lo && blocks.canonHi[b] === hi) return b;
      i = (i + 1) & mask;
    }
  }

  /** True when `n` more names fit without a rehash. */
  hasRoomFor(n: number): boolean {
    return (this.count + n) * 2 <= this.slots.length >> 1;
  }

  /**
   * Tentatively puts block `b` (hash `h`) into the empty slot {@link NameTable.probe} returned (no
   * rehash: check {@link NameTable.hasRoomFor}); {@link NameTable.rollback} takes every tentative put
   * back byte for byte, {@link NameTable.commit} keeps them.
   */
  putAt(slot: number, b: number, h: number): void {
    const gt = this.slots;
    const n = this.undoLen;
    if (n + 2 > this.undo.length) {
      const u = new Int32Array(this.undo.length * 2);
      u.set(this.undo);
      this.undo = u;
    }
    this.undo[n] = slot;
    this.undo[n + 1] = gt[2 * slot + 1]!;
    this.undoLen = n + 2;
    gt[2 * slot] = b;
    gt[2 * slot + 1] = h;
    this.count++;
  }

  /** Keeps the tentative puts. */
  commit(): void {
    this.undoLen = 0;
  }

  /** Undoes the tentative puts, last first (each filled an empty slot, so nothing else moved). */
  rollback(): void {
    const gt = this.slots;
    for (let n = this.undoLen - 2; n >= 0; n -= 2) {
      const slot = this.undo[n]!;
      gt[2 * slot] = -1;
      gt[2 * slot + 1] = this.undo[n + 1]!;
      this.count--;
    }
    this.undoLen = 0;
  }

  /** Adds block `b` under its canonical name (set in the pool). */
  insert(b: number, blocks: BlockPool): void {
    this.insertHashed(b, mix3(NAME_SEED, blocks.canonLo[b]!, blocks.canonHi[b]!));
  }

  /** {@link NameTable.insert} given the name's {@link NameTable.hash}. */
  insertHashed(b: number, h: number): void {
    if ((this.count + 1) * 2 > this.slots.length >> 1) this.rehash(this.slots.length);
    const gt = this.slots;
    const mask = (gt.length >> 1) - 1;
    let i = h & mask;
    while (gt[2 * i]! >= 0) i = (i + 1) & mask;
    gt[2 * i] = b;
    gt[2 * i + 1] = h;
    this.count++;
  }

  /** Removes block `b` (its canonical name still set in the pool). */
  delete(b: number, blocks: BlockPool): void {
    const gt = this.slots;
    const mask = (gt.length >> 1) - 1;
    let i = mix3(NAME_SEED, blocks.canonLo[b]!, blocks.canonHi[b]!) & mask;
    while (gt[2 * i] !== b) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (gt[2 * j]! < 0) break;
      const home = gt[2 * j + 1]! & mask;
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      gt[2 * i] = gt[2 * j]!;
      gt[2 * i + 1] = gt[2 * j + 1]!;
      i = j;
    }
    gt[2 * i] = -1;
    this.count--;
  }

  /** Re-points every entry after the block pool moved (`remap`: old id → new id). */
  remap(remap: Int32Array): void {
    const gt = this.slots;
    for (let i = 0; i < gt.length; i += 2) if (gt[i]! >= 0) gt[i] = remap[gt[i]!]!;
  }

  /** Re-inserts every name into a table of `pairs` pairs. */
  private rehash(pairs: number): void {
    const old = this.slots;
    const gt = (this.slots = new Int32Array(pairs * 2).fill(-1));
    const mask = pairs - 1;
    for (let k = 0; k < old.length; k += 2) {
      const b = old[k]!;
      if (b < 0) continue;
      let i = old[k + 1]! & mask;
      while (gt[2 * i]! >= 0) i = (i + 1) & mask;
      gt[2 * i] = b;
      gt[2 * i + 1] = old[k + 1]!;
    }
  }
}

/** Places a row in an alias table with room for it. */
function put(et: Int32Array, s: number, lo: number, hi: number, b: number): void {
  const mask = (et.length >> 2) - 1;
  let i = mix3(s, lo, hi) & mask;
  while (et[(i << 2) + 3]! >= 0) i = (i + 1) & mask;
  const r = i << 2;
  et[r] = s;
  et[r + 1] = lo;
  et[r + 2] = hi;
  et[r + 3] = b;
}

/**
 * Alias names: rows of 4 words `[slot, name lo, name hi, block id]` (block -1: empty). Rows are
 * 16 bytes: a fuller table (load ≤ 3/4) keeps per-worker naming near 30 bytes an entry.
 * @internal
 */
export class AliasTable {
  /** 4 words a row; the row count is a power of two. */
  rows: Int32Array;
  /** Names in the table. */
  count = 0;

  constructor(rows: number) {
    this.rows = new Int32Array(rows * 4).fill(-1);
  }

  /** The block cache `s` names (lo, hi) by alias, or -1. */
  lookup(s: number, lo: number, hi: number): number {
    const et = this.rows;
    const mask = (et.length >> 2) - 1;
    let i = mix3(s, lo, hi) & mask;
    for (;;) {
      const r = i << 2;
      const b = et[r + 3]!;
      if (b < 0) return -1;
      if (et[r] === s && et[r + 1] === (lo | 0) && et[r + 2] === (hi | 0)) return b;
      i = (i + 1) & mask;
    }
  }

  /** Adds cache `s`'s alias (lo, hi) for block `b` (the caller counts it per cache). */
  insert(s: number, lo: number, hi: number, b: number): void {
    if ((this.count + 1) * 4 > (this.rows.length >> 2) * 3) {
      const old = this.rows;
      const et = (this.rows = new Int32Array(old.length * 2).fill(-1));
      for (let r = 0; r < old.length; r += 4) if (old[r + 3]! >= 0) put(et, old[r]!, old[r + 1]!, old[r + 2]!, old[r + 3]!);
    }
    put(this.rows, s, lo, hi, b);
    this.count++;
  }

  /** Removes cache `s`'s alias (lo, hi); false if it has none. */
  delete(s: number, lo: number, hi: number): boolean {
    const et = this.rows;
    const mask = (et.length >> 2) - 1;
    let i = mix3(s, lo, hi) & mask;
    for (;;) {
      const r = i << 2;
      if (et[r + 3]! < 0) return false;
      if (et[r] === s && et[r + 1] === (lo | 0) && et[r + 2] === (hi | 0)) break;
      i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const rj = j << 2;
      if (et[rj + 3]! < 0) break;
      const h = mix3(et[rj]!, et[rj + 1]! >>> 0, et[rj + 2]! >>> 0) & mask;
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      et.copyWithin(i << 2, rj, rj + 4);
      i = j;
    }
    et.fill(-1, i << 2, (i << 2) + 4);
    this.count--;
    return true;
  }

  /** Drops every alias of cache `s` (rebuilds a table of the same size without them). */
  dropSlot(s: number): void {
    const old = this.rows;
    const et = (this.rows = new Int32Array(old.length).fill(-1));
    this.count = 0;
    for (let r = 0; r < old.length; r += 4) {
      if (old[r + 3]! >= 0 && old[r] !== s) {
        put(et, old[r]!, old[r + 1]!, old[r + 2]!, old[r + 3]!);
        this.count++;
      }
    }
  }

  /** Re-points every row after the block pool moved (`remap`: old id → new id). */
  remap(remap: Int32Array): void {
    const et = this.rows;
    for (let r = 3; r < et.length; r += 4) if (et[r]! >= 0) et[r] = remap[et[r]!]!;
  }
}
