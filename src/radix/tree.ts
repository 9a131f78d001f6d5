/**
 * Tree surgery: holder updates on a range of a node's blocks, with the splits, merges and frees they
 * imply, so that every node keeps the invariant "all its blocks have the same holders, tiers and names",
 * nodes with no holder and no child are freed, and a single child with equal holders is merged back.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import type { ChildTable } from './child-table.js';
import { popcount3, tiersOf, type HolderPool } from './holders.js';
import type { AliasTable, NameTable } from './name-tables.js';
import type { NodeTable } from './nodes.js';

/** Edits the tree's structures in place (the same objects the index reads). @internal */
export class TreeEditor {
  /** Nodes a cache was dropped from, waiting for {@link TreeEditor.settleAll}. */
  private readonly touched: number[] = [];

  constructor(
    private readonly nodes: NodeTable,
    private readonly blocks: BlockPool,
    private readonly holders: HolderPool,
    private readonly children: ChildTable,
    private readonly names: NameTable,
    private readonly aliases: AliasTable,
    /** Paths held per cache slot (kept in step with holder changes). */
    private readonly paths: number[],
  ) {}

  /** Sets cache `s`'s holder word to `v` (0: not a holder) on blocks [a, b) of node `n`, splitting and merging as needed. */
  updateRange(n: number, a: number, b: number, s: number, v: number): void {
    const old = this.holderValue(n, s);
    if (old === v) return;
    if (b < this.nodes.len[n]!) this.split(n, b);
    const mid = a > 0 ? this.split(n, a) : n;
    this.setHolder(mid, s, v);
    const wasHeld = tiersOf(old) !== 0;
    const isHeld = tiersOf(v) !== 0;
    if (wasHeld !== isHeld) this.paths[s] += isHeld ? b - a : a - b;
    this.settle(mid);
  }

  /** Frees node `n` if it has no holder and no child; else merges it with its neighbours (and frees what that leaves dead). */
  settle(n: number): void {
    if (this.nodes.hLen[n] === 0 && this.nodes.kids[n] === 0) {
      this.freeNode(n);
      return;
    }
    const first = this.nodes.start[n]!;
    this.tryMerge(n);
    const m = this.blocks.node[first]!;
    if (this.nodes.hLen[m] === 0 && this.nodes.kids[m] === 0) this.freeNode(m);
  }

  /** Splits node `n` after `k` blocks; returns the new tail node (which keeps `n`'s children). */
  split(n: number, k: number): number {
    const t = this.allocNode();
    const st = this.nodes.start[n]!;
    const len = this.nodes.len[n]!;
    this.nodes.start[t] = st + k;
    this.nodes.len[t] = len - k;
    this.nodes.parent[t] = st + k - 1;
    this.nodes.kids[t] = this.nodes.kids[n]!;
    this.nodes.kids[n] = 1;
    const hl = this.nodes.hLen[n]!;
    const cap = this.nodes.hCap[n]!;
    const off = this.holders.alloc(cap);
    this.holders.words.copyWithin(off, this.nodes.hOff[n]!, this.nodes.hOff[n]! + hl);
    this.nodes.hOff[t] = off;
    this.nodes.hLen[t] = hl;
    this.nodes.hCap[t] = cap;
    this.nodes.len[n] = k;
    this.blocks.node.fill(t, st + k, st + len);
    this.children.insert(t, this.nodes, this.blocks);
    return t;
  }

  /** Merges `n` with a contiguous single child of equal holders, and into its parent likewise. */
  tryMerge(n: number): void {
    if (this.nodes.kids[n] === 1) {
      const e = this.nodes.start[n]! + this.nodes.len[n]!;
      if (e < this.blocks.top) {
        const z = this.blocks.node[e]!;
        if (z >= 0 && this.nodes.start[z] === e && this.nodes.parent[z] === e - 1 && this.holdersEqual(n, z)) this.absorb(n, z);
      }
    }
    const pb = this.nodes.parent[n]!;
    if (pb >= 0) {
      const p = this.blocks.node[pb]!;
      if (this.nodes.kids[p] === 1 && this.nodes.start[n] === pb + 1 && this.holdersEqual(p, n)) this.absorb(p, n);
    }
  }

  /** Appends child `z` (contiguous, only child, same holders) to `p`. */
  absorb(p: number, z: number): void {
    this.children.delete(z, this.nodes, this.blocks);
    const st = this.nodes.start[z]!;
    const len = this.nodes.len[z]!;
    this.blocks.node.fill(p, st, st + len);
    this.nodes.len[p] += len;
    this.nodes.kids[p] = this.nodes.kids[z]!;
    this.holders.release(this.nodes.hOff[z]!, this.nodes.hCap[z]!);
    this.nodes.release(z);
  }

  /** Frees a node with no holder and no child, then its parent likewise. */
  freeNode(start: number): void {
    let x = start;
    for (;;) {
      const st = this.nodes.start[x]!;
      const len = this.nodes.len[x]!;
      this.children.delete(x, this.nodes, this.blocks);
      // Each name delete is a table miss: start them all at once.
      if (len > 1) this.names.touchBlocks(this.blocks, st, st + len);
      for (let b = st; b < st + len; b++) {
        if (this.blocks.canon[b] !== 0) {
          this.names.delete(b, this.blocks);
          this.blocks.canon[b] = 0;
        }
      }
      this.blocks.node.fill(-1, st, st + len);
      this.blocks.holes += len;
      const pb = this.nodes.parent[x]!;
      this.holders.release(this.nodes.hOff[x]!, this.nodes.hCap[x]!);
      this.nodes.release(x);
      if (pb < 0) {
        this.nodes.rootKids--;
        break;
      }
      const p = this.blocks.node[pb]!;
      this.nodes.kids[p]--;
      if (this.nodes.hLen[p] === 0 && this.nodes.kids[p] === 0) {
        x = p;
        continue;
      }
      // A merge with a holder-less child that has no children left (mid-clear) leaves a dead node.
      const first = this.nodes.start[p]!;
      this.tryMerge(p);
      const m = this.blocks.node[first]!;
      if (this.nodes.hLen[m] === 0 && this.nodes.kids[m] === 0) {
        x = m;
        continue;
      }
      break;
    }
    this.blocks.trimTop();
  }

  /** A free node id; growing the node columns also pre-sizes the child table. */
  allocNode(): number {
    const nodes = this.nodes;
    if (nodes.free < 0 && nodes.top === nodes.capacity) {
      const cap = nodes.top * 2;
      nodes.grow(cap);
      if (this.children.slots.length < cap * 2) this.children.rehash(cap * 2, this.nodes, this.blocks);
    }
    return nodes.alloc();
  }

  /**
   * Takes slot `s` off every node's holder list; returns the (path, tier) entries it held. The nodes
   * are only settled (freed or merged) by {@link TreeEditor.settleAll}, once names are cleaned up too.
   */
  dropHolder(s: number): number {
    let dropped = 0;
    const touched = this.touched;
    touched.length = 0;
    for (let n = 0; n < this.nodes.top; n++) {
      if (this.nodes.len[n] === 0) continue;
      const i = this.hFind(n, s);
      if (i < 0) continue;
      dropped += popcount3(tiersOf(this.holders.words[i]!)) * this.nodes.len[n]!;
      this.setHolder(n, s, 0);
      touched.push(n);
    }
    return dropped;
  }

  /** Settles the nodes {@link TreeEditor.dropHolder} touched, deepest first. */
  settleAll(): void {
    const touched = this.touched;
    for (let t = touched.length - 1; t >= 0; t--) {
      const n = touched[t]!;
      if (this.nodes.len[n] !== 0) this.settle(n); // else freed or merged meanwhile
    }
    touched.length = 0;
  }

  /** Closes the block pool's holes; block ids change, so names and child keys are re-pointed. */
  compact(): void {
    const remap = this.blocks.compact(this.nodes);
    this.names.remap(remap);
    this.aliases.remap(remap);
    this.children.rehash(this.children.slots.length, this.nodes, this.blocks);
  }

  // Holder lists of nodes.

  /** Absolute position of slot `s` in node `n`'s holder list, or ~insertion point. */
  hFind(n: number, s: number): number {
    return this.holders.find(this.nodes.hOff[n]!, this.nodes.hLen[n]!, s);
  }

  holderValue(n: number, s: number): number {
    return this.holders.valueOf(this.nodes.hOff[n]!, this.nodes.hLen[n]!, s);
  }

  setHolder(n: number, s: number, v: number): void {
    const i = this.hFind(n, s);
    const off = this.nodes.hOff[n]!;
    const len = this.nodes.hLen[n]!;
    if (i >= 0) {
      if (v !== 0) this.holders.words[i] = v;
      else {
        this.holders.words.copyWithin(i, i + 1, off + len);
        this.nodes.hLen[n] = len - 1;
      }
      return;
    }
    if (v === 0) return;
    const pos = ~i;
    const cap = this.nodes.hCap[n]!;
    if (len === 1 << cap) {
      const nOff = this.holders.alloc(cap + 1);
      const hp = this.holders.words;
      hp.copyWithin(nOff, off, pos);
      hp[nOff + (pos - off)] = v;
      hp.copyWithin(nOff + (pos - off) + 1, pos, off + len);
      this.holders.release(off, cap);
      this.nodes.hOff[n] = nOff;
      this.nodes.hCap[n] = cap + 1;
    } else {
      this.holders.words.copyWithin(pos + 1, pos, off + len);
      this.holders.words[pos] = v;
    }
    this.nodes.hLen[n] = len + 1;
  }

  holdersEqual(a: number, b: number): boolean {
    const len = this.nodes.hLen[a]!;
    return len === this.nodes.hLen[b] && this.holders.equal(this.nodes.hOff[a]!, this.nodes.hOff[b]!, len);
  }
}
