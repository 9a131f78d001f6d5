/**
 * The tree's nodes, struct-of-arrays over integer ids.
 *
 * A node is a run of blocks in the block pool (`start`, `len`) whose blocks all have the same holders,
 * tiers and names; `parent` is the parent's *last block* (-1: the root), so splitting a parent never
 * touches its children. Freed ids are chained through `start` (a free node has `len` 0).
 *
 * @internal
 */
import { growI32, growU8 } from './tables.js';

/** Node columns and the node allocator. @internal */
export class NodeTable {
  /** First block of the node's run in the block pool (free nodes: next free id, or -1). */
  start: Int32Array;
  /** Blocks in the run; 0 for a free node. */
  len: Int32Array;
  /** The parent node's last block, or -1 under the root. */
  parent: Int32Array;
  /** Number of child nodes. */
  kids: Int32Array;
  /** Offset of the node's holder list in the holder pool. */
  hOff: Int32Array;
  /** Holder words in the list. */
  hLen: Int32Array;
  /** log2 of the list's chunk capacity. */
  hCap: Uint8Array;
  /** Ids handed out so far (every id below is live or free). */
  top = 0;
  /** Head of the free id list, or -1. */
  free = -1;
  /** Nodes in use (the root is implicit and not counted). */
  live = 0;
  /** Children of the root. */
  rootKids = 0;

  constructor(capacity: number) {
    this.start = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.kids = new Int32Array(capacity);
    this.hOff = new Int32Array(capacity);
    this.hLen = new Int32Array(capacity);
    this.hCap = new Uint8Array(capacity);
  }

  /** Room for this many ids. */
  get capacity(): number {
    return this.start.length;
  }

  /** A free id (the caller sets every column); grows the columns when full. */
  alloc(): number {
    let n = this.free;
    if (n >= 0) {
      this.free = this.start[n]!;
    } else {
      if (this.top === this.start.length) this.grow(this.top * 2);
      n = this.top++;
    }
    this.live++;
    return n;
  }

  /** Returns id `n` to the free list. */
  release(n: number): void {
    this.len[n] = 0;
    this.hLen[n] = 0;
    this.start[n] = this.free;
    this.free = n;
    this.live--;
  }

  /** Copies every column into room for `capacity` ids (columns are re-read by callers after an alloc). */
  grow(capacity: number): void {
    this.start = growI32(this.start, capacity);
    this.len = growI32(this.len, capacity);
    this.parent = growI32(this.parent, capacity);
    this.kids = growI32(this.kids, capacity);
    this.hOff = growI32(this.hOff, capacity);
    this.hLen = growI32(this.hLen, capacity);
    this.hCap = growU8(this.hCap, capacity);
  }

  /** Bytes of typed arrays reserved. */
  get byteLength(): number {
    return (
      this.start.byteLength + this.len.byteLength + this.parent.byteLength + this.kids.byteLength +
      this.hOff.byteLength + this.hLen.byteLength + this.hCap.byteLength
    );
  }
}
