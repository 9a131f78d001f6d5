/**
 * The block pool: every block of the tree, struct-of-arrays over block ids.
 *
 * A node's blocks sit contiguously, so a walk compares a run of a prompt at memory speed and a split
 * only re-points the tail's `node` entries. A block's first name is its **canonical name**
 * (`canonLo/canonHi`, valid while `canon` is 1); the global name table maps it back to the block.
 * Block ids never change except in {@link BlockPool.compact}.
 *
 * @internal
 */
import type { NodeTable } from './nodes.js';
import { growU32, growU8, pow2AtLeast } from './tables.js';

/** Block columns, the append-only allocator and compaction. @internal */
export class BlockPool {
  /** Tokens hash, low half. */
  lo: Uint32Array;
  /** Tokens hash, high half. */
  hi: Uint32Array;
  /** Owning node, or -1 for a hole. */
  node: Int32Array;
  /** Canonical name, low half. */
  canonLo: Uint32Array;
  /** Canonical name, high half. */
  canonHi: Uint32Array;
  /** 1 when the block has a canonical name (it is in the global name table). */
  canon: Uint8Array;
  /** Blocks handed out (new runs are appended here). */
  top = 0;
  /** Holes below `top` (freed blocks not yet compacted away). */
  holes = 0;

  constructor(capacity: number) {
    this.lo = new Uint32Array(capacity);
    this.hi = new Uint32Array(capacity);
    this.node = new Int32Array(capacity).fill(-1);
    this.canonLo = new Uint32Array(capacity);
    this.canonHi = new Uint32Array(capacity);
    this.canon = new Uint8Array(capacity);
  }

  /** Makes room for `extra` blocks past `top` (columns are re-read by callers afterwards). */
  ensure(extra: number): void {
    const need = this.top + extra;
    if (need <= this.lo.length) return;
    const cap = pow2AtLeast(need, this.lo.length * 2);
    this.lo = growU32(this.lo, cap);
    this.hi = growU32(this.hi, cap);
    const node = new Int32Array(cap).fill(-1);
    node.set(this.node);
    this.node = node;
    this.canonLo = growU32(this.canonLo, cap);
    this.canonHi = growU32(this.canonHi, cap);
    this.canon = growU8(this.canon, cap);
  }

  /** Drops the holes at the end of the pool. */
  trimTop(): void {
    while (this.top > 0 && this.node[this.top - 1]! < 0) {
      this.top--;
      this.holes--;
    }
  }

  /** True when more than half of the pool is holes (and enough to be worth a pass). */
  wantsCompaction(): boolean {
    return this.holes >= 4096 && this.holes * 2 >= this.top;
  }

  /**
   * Moves every node's run down to close the holes and re-points `nodes.start` and `nodes.parent`.
   * Returns old block id → new block id (-1 for a hole): the caller re-points everything else keyed by block.
   */
  compact(nodes: NodeTable): Int32Array {
    const oldTop = this.top;
    const remap = new Int32Array(oldTop).fill(-1);
    const nStart = nodes.start;
    const nLen = nodes.len;
    let top = 0;
    let b = 0;
    while (b < oldTop) {
      const n = this.node[b]!;
      if (n < 0) {
        b++;
        continue;
      }
      const len = nLen[n]!;
      for (let i = 0; i < len; i++) remap[b + i] = top + i;
      if (top !== b) {
        this.lo.copyWithin(top, b, b + len);
        this.hi.copyWithin(top, b, b + len);
        this.canonLo.copyWithin(top, b, b + len);
        this.canonHi.copyWithin(top, b, b + len);
        this.canon.copyWithin(top, b, b + len);
        this.node.copyWithin(top, b, b + len);
      }
      nStart[n] = top;
      top += len;
      b += len;
    }
    this.node.fill(-1, top, oldTop);
    this.canon.fill(0, top, oldTop);
    this.top = top;
    this.holes = 0;
    const nParent = nodes.parent;
    for (let n = 0; n < nodes.top; n++) {
      if (nLen[n] === 0) continue;
      const pb = nParent[n]!;
      if (pb >= 0) nParent[n] = remap[pb]!;
    }
    return remap;
  }

  /** Bytes of typed arrays reserved. */
  get byteLength(): number {
    return (
      this.lo.byteLength + this.hi.byteLength + this.node.byteLength +
      this.canonLo.byteLength + this.canonHi.byteLength + this.canon.byteLength
    );
  }
}
