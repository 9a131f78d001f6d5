/**
 * The findMatches walk: per-query scratch and the loop that scores every cache holding a prefix.
 *
 * The scratch is indexed by cache slot and reused by every call (grown with the slots, never shrunk),
 * so a query allocates only its result rows.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import type { ChildTable } from './child-table.js';
import { bestColumn, SLOT_MASK, tiersOf, type HolderPool } from './holders.js';
import type { NodeTable } from './nodes.js';
import { MatchScores } from './scores.js';
import { growI32, growU32, growU8, mix3, pow2AtLeast } from './tables.js';

/** Scratch of the walk, indexed by cache slot. @internal */
export class Matcher {
  /** Epoch of the last node that listed the slot (membership test without clearing). */
  private mark = new Uint32Array(64);
  /** Best tier column (1..3) of the slot on the current node. */
  private bestTier = new Uint8Array(64);
  /** Per slot 4 counters: overlap, device, host, disk blocks. */
  private counts = new Int32Array(256);
  /** Slots still matching. */
  private active = new Int32Array(64);
  /** Slots scored, in result-row order. */
  private done = new Int32Array(64);
  private epoch = 0;

  /** Makes room for slot `slot`. */
  ensureSlot(slot: number): void {
    if (this.mark.length > slot) return;
    const cap = pow2AtLeast(slot + 1, 64);
    this.mark = growU32(this.mark, cap);
    this.bestTier = growU8(this.bestTier, cap);
    this.counts = growI32(this.counts, cap * 4);
    this.active = growI32(this.active, cap);
    this.done = growI32(this.done, cap);
  }

  /** Fresh scratch for `slots` slots (after a restore). */
  reset(slots: number): void {
    const cap = pow2AtLeast(slots + 1, 64);
    this.mark = new Uint32Array(cap);
    this.bestTier = new Uint8Array(cap);
    this.counts = new Int32Array(cap * 4);
    this.active = new Int32Array(cap);
    this.done = new Int32Array(cap);
  }

  /** Cache slots scored by the last {@link Matcher.walk}, in row order (valid until the next walk). */
  get scoredSlots(): Int32Array {
    return this.done;
  }

  /** Per cache slot `s`: overlap, device, host, disk blocks at `4s … 4s+3` (valid for the last walk's slots). */
  get slotCounts(): Int32Array {
    return this.counts;
  }

  /**
   * Scores query `q` (`count` (lo, hi) pairs) into a fresh {@link MatchScores} (rows per
   * docs/INDEX-SEMANTICS.md).
   */
  match(
    q: Uint32Array,
    count: number,
    earlyExit: boolean,
    nodes: NodeTable,
    blocks: BlockPool,
    holders: HolderPool,
    children: ChildTable,
    slotWorker: readonly string[],
    slotRank: readonly number[],
  ): MatchScores {
    const nDone = this.walk(q, count, earlyExit, nodes, blocks, holders, children);
    const done = this.done;
    const cnt = this.counts;
    // Two plain arrays per call (a typed array this size would be an off-heap allocation, ~10× slower):
    // worker ids, and (dpRank, blocks, device, host, disk) per row.
    const ids: string[] = new Array<string>(nDone);
    const rows: number[] = new Array<number>(nDone * 5);
    const ranks = slotRank;
    for (let i = 0, r = 0; i < nDone; i++, r += 5) {
      const s = done[i]!;
      ids[i] = slotWorker[s]!;
      rows[r] = ranks[s]!;
      rows[r + 1] = cnt[s * 4]!;
      rows[r + 2] = cnt[s * 4 + 1]!;
      rows[r + 3] = cnt[s * 4 + 2]!;
      rows[r + 4] = cnt[s * 4 + 3]!;
    }
    return new MatchScores(ids, rows);
  }

  /**
   * The walk itself: follows the tree while some cache holds the whole prefix, intersecting the
   * active caches with each node's holders. Leaves the scored slots in {@link Matcher.scoredSlots}
   * and their counts in {@link Matcher.slotCounts}; returns how many slots scored. Allocates nothing.
   */
  walk(q: Uint32Array, count: number, earlyExit: boolean, nodes: NodeTable, blocks: BlockPool, holders: HolderPool, children: ChildTable): number {
    let nActive = 0;
    let nDone = 0;
    let depth = 0;
    const active = this.active;
    const done = this.done;
    const cnt = this.counts;
    const mark = this.mark;
    const tierOf = this.bestTier;
    const hp = holders.words;
    const bLo = blocks.lo;
    const bHi = blocks.hi;
    const { start: nStart, len: nLen, parent: nParent, hOff: nHOff, hLen: nHLen } = nodes;
    const ct = children.slots;
    const ctMask = ct.length - 1;
    let c = count > 0 ? children.lookup(-1, q[0]!, q[1]!, nodes, blocks) : -1;
    if (c >= 0) {
      const off = nHOff[c]!;
      const end = off + nHLen[c]!;
      for (let i = off; i < end; i++) {
        const v = hp[i]!;
        const t = tiersOf(v);
        if (t === 0) continue;
        const s = v & SLOT_MASK;
        active[nActive++] = s;
        tierOf[s] = bestColumn(t);
        cnt[s * 4 + 1] = cnt[s * 4 + 2] = cnt[s * 4 + 3] = 0;
      }
    }
    while (c >= 0 && nActive > 0) {
      const st = nStart[c]!;
      const len = nLen[c]!;
      let run = 1; // the child lookup matched the first block
      if (!(earlyExit && nActive === 1)) {
        const max = Math.min(len, count - depth);
        let qi = (depth + 1) * 2;
        while (run < max && bLo[st + run] === q[qi] && bHi[st + run] === q[qi + 1]) {
          run++;
          qi += 2;
        }
      }
      for (let i = 0; i < nActive; i++) {
        const s = active[i]!;
        cnt[s * 4 + tierOf[s]!] += run;
      }
      depth += run;
      if (run < len || depth >= count || (earlyExit && nActive === 1)) break;
      // The child table probe (ChildTable.lookup) inlined: this is the walk's step per node.
      const pb = st + len - 1;
      const lo = q[depth * 2]!;
      const hi = q[depth * 2 + 1]!;
      let slot = mix3(pb + 1, lo, hi) & ctMask;
      let next: number;
      for (;;) {
        next = ct[slot]!;
        if (next < 0) break;
        const ns = nStart[next]!;
        if (nParent[next] === pb && bLo[ns] === lo && bHi[ns] === hi) break;
        slot = (slot + 1) & ctMask;
      }
      if (next < 0) break;
      // Intersect the active set with the child's holders; those dropping out score the depth so far.
      let epoch = ++this.epoch;
      if (epoch === 0xffffffff) {
        mark.fill(0);
        epoch = this.epoch = 1;
      }
      const off = nHOff[next]!;
      const end = off + nHLen[next]!;
      for (let i = off; i < end; i++) {
        const v = hp[i]!;
        const t = tiersOf(v);
        if (t === 0) continue;
        const s = v & SLOT_MASK;
        mark[s] = epoch;
        tierOf[s] = bestColumn(t);
      }
      let kept = 0;
      for (let i = 0; i < nActive; i++) {
        const s = active[i]!;
        if (mark[s] === epoch) active[kept++] = s;
        else {
          cnt[s * 4] = depth;
          done[nDone++] = s;
        }
      }
      nActive = kept;
      c = next;
    }
    for (let i = 0; i < nActive; i++) {
      const s = active[i]!;
      cnt[s * 4] = depth;
      done[nDone++] = s;
    }
    return nDone;
  }
}
