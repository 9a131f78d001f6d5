/**
 * The child table: open addressing over node ids, keyed by (parent's last block, first tokens hash).
 *
 * Keying by the parent's *last block* (-1: the root) means a split never re-keys the children. The
 * key is read from the node and block columns, so the table stores bare node ids (-1: empty) and
 * deletes by backward shift (no tombstones). Load stays ≤ 1/2.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import type { NodeTable } from './nodes.js';
import { mix3 } from './tables.js';

/** Home slot of node `c` in a table of `mask + 1` slots. */
function home(c: number, mask: number, nodes: NodeTable, blocks: BlockPool): number {
  const st = nodes.start[c]!;
  return mix3(nodes.parent[c]! + 1, blocks.lo[st]!, blocks.hi[st]!) & mask;
}

/** Node ids by (parent's last block, first tokens hash). @internal */
export class ChildTable {
  /** Node ids, -1 empty; the length is a power of two. */
  slots: Int32Array;
  /** Nodes in the table. */
  count = 0;

  constructor(capacity: number) {
    this.slots = new Int32Array(capacity).fill(-1);
  }

  /** Child of the node ending at block `pb` (-1: root) whose first tokens hash is (lo, hi), or -1. */
  lookup(pb: number, lo: number, hi: number, nodes: NodeTable, blocks: BlockPool): number {
    const ct = this.slots;
    const nStart = nodes.start;
    const nParent = nodes.parent;
    const bLo = blocks.lo;
    const bHi = blocks.hi;
    const mask = ct.length - 1;
    let i = mix3(pb + 1, lo, hi) & mask;
    for (;;) {
      const c = ct[i]!;
      if (c < 0) return -1;
      const st = nStart[c]!;
      if (nParent[c] === pb && bLo[st] === lo && bHi[st] === hi) return c;
      i = (i + 1) & mask;
    }
  }

  /** Adds node `c` (its run and parent set), doubling the table past load 1/2. */
  insert(c: number, nodes: NodeTable, blocks: BlockPool): void {
    if ((this.count + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2, nodes, blocks);
    const ct = this.slots;
    const mask = ct.length - 1;
    let i = home(c, mask, nodes, blocks);
    while (ct[i]! >= 0) i = (i + 1) & mask;
    ct[i] = c;
    this.count++;
  }

  /** Removes node `c` (still keyed as when inserted). */
  delete(c: number, nodes: NodeTable, blocks: BlockPool): void {
    const ct = this.slots;
    const mask = ct.length - 1;
    let i = home(c, mask, nodes, blocks);
    while (ct[i] !== c) i = (i + 1) & mask;
    // Backward-shift deletion keeps probe chains tombstone-free.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = ct[j]!;
      if (e < 0) break;
      const h = home(e, mask, nodes, blocks);
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      ct[i] = e;
      i = j;
    }
    ct[i] = -1;
    this.count--;
  }

  /** Rebuilds the table with `capacity` slots from every live node (after growth or block moves). */
  rehash(capacity: number, nodes: NodeTable, blocks: BlockPool): void {
    const ct = (this.slots = new Int32Array(capacity).fill(-1));
    this.count = 0;
    const mask = capacity - 1;
    const nLen = nodes.len;
    for (let n = 0; n < nodes.top; n++) {
      if (nLen[n] === 0) continue;
      let i = home(n, mask, nodes, blocks);
      while (ct[i]! >= 0) i = (i + 1) & mask;
      ct[i] = n;
      this.count++;
    }
  }
}
