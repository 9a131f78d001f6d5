/**
 * The exact KV-cache index: a radix tree of tokens hashes over typed arrays (DESIGN §7).
 *
 * This file holds the event logic (apply: stored / removed / cleared, removeWorker) and the public
 * API wiring. The structures, each in its own file, all struct-of-arrays with integer ids:
 * - block-pool.ts: the blocks (tokens hash halves, owner node, canonical name), compaction;
 * - nodes.ts: nodes (a run of blocks with the same holders, tiers and names);
 * - holders.ts: per-node sorted holder words `slot | tiers << 16 | canonical bit << 19 | names << 20`;
 * - child-table.ts, name-tables.ts: open-addressing tables (children; canonical names and aliases);
 * - tree.ts: splits, merges and frees that keep nodes uniform; match.ts: the findMatches walk;
 * - caches.ts, event-scratch.ts, snapshot-parts.ts, verify.ts: slots, event decoding, snapshots, invariants.
 *
 * @module
 */
import { BlockPool } from './block-pool.js';
import { CacheSlots } from './caches.js';
import { ChildTable } from './child-table.js';
import { EventScratch } from './event-scratch.js';
import { CANON, HolderPool, NAME_MAX, NAME_ONE, TIER_SHIFT, tiersOf } from './holders.js';
import { Matcher } from './match.js';
import { AliasTable, NameTable } from './name-tables.js';
import { NodeTable } from './nodes.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { loadParts, toParts, type IndexStructures } from './snapshot-parts.js';
import { pow2AtLeast } from './tables.js';
import { TreeEditor } from './tree.js';
import type { ApplyResult, FindMatchesOptions, IndexStats, KvEvent, OverlapScores, WorkerKey } from './types.js';
import { checkRank, checkTier, checkU64, checkWorkerId, describe, isU64 } from './validate.js';
import { verifyIndex } from './verify.js';

/** Name kinds of a stored block, decided before anything changes. */
const K_BOUND = 0; // the cache already names this path so
const K_CANON = 1; // the name is the block's canonical name: set the bit
const K_NEWCANON = 2; // the name becomes the block's canonical name (global table insert)
const K_ALIAS = 3; // any other name: per-cache table insert

/** Names whose table slots a store touches at once, and how far ahead of their lookups (see store). */
const TOUCH_CHUNK = 64;
const TOUCH_LEAD = 32;

/** Options of {@link RadixIndex}. */
export interface RadixIndexOptions {
  /** Blocks to reserve room for up front (grows as needed). */
  initialBlocks?: number;
  /** Nodes to reserve room for up front (grows as needed). */
  initialNodes?: number;
}

/**
 * Exact index of which cache `(workerId, dpRank)` holds which prefix paths, in any tier.
 * Semantics: docs/INDEX-SEMANTICS.md.
 */
export class RadixIndex {
  private readonly nodes: NodeTable;
  private readonly blocks: BlockPool;
  private readonly holders: HolderPool;
  private readonly children: ChildTable;
  private readonly names: NameTable;
  private readonly aliases: AliasTable;

  private readonly caches = new CacheSlots();
  private readonly tree: TreeEditor;

  // Scratch (grown, never shrunk): event hashes, resolved blocks and name kinds, query pairs, match state.
  private readonly event = new EventScratch();
  private q64 = new BigUint64Array(64);
  private readonly matcher = new Matcher();
  /** Block run of the last removal: the next removal event often continues it. */
  private removeHintFirst = -2;
  private removeHintLast = -2;
  private resBlock = -1;
  private resKind = 0;

  /** Creates an empty index. */
  constructor(options: RadixIndexOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`options: expected an object, got ${describe(options)}`);
    const blocks = pow2AtLeast(checkRank(options.initialBlocks, 'options.initialBlocks'), 1024);
    const nodes = pow2AtLeast(checkRank(options.initialNodes, 'options.initialNodes'), 256);
    this.nodes = new NodeTable(nodes);
    this.blocks = new BlockPool(blocks);
    this.holders = new HolderPool(nodes * 2);
    this.children = new ChildTable(nodes * 2);
    this.names = new NameTable(blocks);
    this.aliases = new AliasTable(16);
    this.tree = new TreeEditor(this.nodes, this.blocks, this.holders, this.children, this.names, this.aliases, this.caches.paths);
  }

  // ───────────────────────────── public API ─────────────────────────────

  /** Applies one event (see docs/INDEX-SEMANTICS.md). Throws TypeError / RangeError on malformed input, changing nothing. */
  apply(event: KvEvent): ApplyResult {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new TypeError(`event: expected an object, got ${describe(event)}`);
    }
    const type = (event as { type?: unknown }).type;
    if (type !== 'stored' && type !== 'removed' && type !== 'cleared') {
      throw new TypeError(`event.type: expected 'stored' | 'removed' | 'cleared', got ${describe(type)}`);
    }
    const workerId = checkWorkerId(event.workerId);
    const dpRank = checkRank(event.dpRank, 'event.dpRank');
    checkRank(event.eventId, 'event.eventId');
    const tierBit = checkTier(event.tier);
    let result: ApplyResult;
    if (type === 'stored') {
      const parent = (event as { parentHash?: unknown }).parentHash;
      const hasParent = parent !== undefined && parent !== null;
      if (hasParent && !isU64(parent)) checkU64(parent, 'event.parentHash');
      const blocks = (event as { blocks?: unknown }).blocks;
      if (!Array.isArray(blocks)) throw new TypeError(`event.blocks: expected an array, got ${describe(blocks)}`);
      const m = blocks.length;
      this.event.readStored(blocks);
      let pLo = 0;
      let pHi = 0;
      if (hasParent) {
        this.event.readParent(parent as bigint);
        pLo = this.event.parentLo;
        pHi = this.event.parentHi;
      }
      const slot = this.knownSlot(workerId, dpRank);
      result = this.store(slot, hasParent, pLo, pHi, m, tierBit);
    } else if (type === 'removed') {
      const hashes = (event as { blockHashes?: unknown }).blockHashes;
      if (!Array.isArray(hashes)) throw new TypeError(`event.blockHashes: expected an array, got ${describe(hashes)}`);
      const m = hashes.length;
      this.event.readRemoved(hashes);
      const slot = this.knownSlot(workerId, dpRank);
      result = this.remove(slot, m, tierBit);
    } else {
      const slot = this.knownSlot(workerId, dpRank);
      result = { applied: this.clearSlot(slot) };
    }
    this.maybeCompact();
    return result;
  }

  /** Forgets a cache (one rank), or every rank of `workerId` when `dpRank` is omitted. Unknown workers are a no-op. */
  removeWorker(workerId: string, dpRank?: number): void {
    checkWorkerId(workerId);
    if (dpRank !== undefined) checkRank(dpRank, 'dpRank');
    const ranks = this.caches.slotOf.get(workerId);
    if (ranks === undefined) return;
    for (const [rank, slot] of [...ranks]) {
      if (dpRank !== undefined && rank !== dpRank) continue;
      this.clearSlot(slot);
      this.caches.release(workerId, rank, slot);
    }
    this.maybeCompact();
  }

  /** Per-cache overlap (in blocks) of a prompt given as its tokens hashes. */
  findMatches(tokensHashes: BigUint64Array | readonly bigint[], options?: FindMatchesOptions): OverlapScores {
    if (tokensHashes instanceof BigUint64Array) {
      const pairs = new Uint32Array(tokensHashes.buffer, tokensHashes.byteOffset, tokensHashes.length * 2);
      return this.match(pairs, tokensHashes.length, options?.earlyExit === true);
    }
    if (!Array.isArray(tokensHashes)) {
      throw new TypeError(`tokensHashes: expected a BigUint64Array or an array of u64 bigints, got ${describe(tokensHashes)}`);
    }
    const n = tokensHashes.length;
    if (this.q64.length < n) this.q64 = new BigUint64Array(pow2AtLeast(n, 64));
    const q = this.q64;
    for (let i = 0; i < n; i++) {
      const h: unknown = tokensHashes[i];
      if (!isU64(h)) checkU64(h, `tokensHashes[${i}]`);
      q[i] = h as bigint;
    }
    return this.match(new Uint32Array(q.buffer, 0, n * 2), n, options?.earlyExit === true);
  }

  /**
   * {@link RadixIndex.findMatches} over `count` hashes given as (lo, hi) u32 pairs: the zero-BigInt path.
   * @internal
   */
  findMatchesU32(pairs: Uint32Array, count: number, options?: FindMatchesOptions): OverlapScores {
    if (!(pairs instanceof Uint32Array)) throw new TypeError(`pairs: expected a Uint32Array, got ${describe(pairs)}`);
    if (!Number.isSafeInteger(count) || count < 0 || count * 2 > pairs.length) {
      throw new RangeError(`count: expected an integer in [0, ${pairs.length >> 1}], got ${describe(count)}`);
    }
    return this.match(pairs, count, options?.earlyExit === true);
  }

  /**
   * Zero-allocation {@link RadixIndex.findMatchesU32} for a consumer on the hot path (the router):
   * scores `count` (lo, hi) pairs and returns the number of caches that matched. Cache `i` (0 ≤ i <
   * result) is slot `matchedSlots[i]`; slot `s`'s overlap, device, host and disk blocks are
   * `matchedCounts[4s … 4s+3]`. Both views are valid until the next match call and must not be
   * written. Map a slot to its cache with {@link RadixIndex.cacheWorkerId} / {@link RadixIndex.cacheDpRank};
   * the mapping holds while {@link RadixIndex.cacheEpoch} is unchanged.
   * @internal
   */
  matchSlotsU32(pairs: Uint32Array, count: number): number {
    if (!(pairs instanceof Uint32Array)) throw new TypeError(`pairs: expected a Uint32Array, got ${describe(pairs)}`);
    if (!Number.isSafeInteger(count) || count < 0 || count * 2 > pairs.length) {
      throw new RangeError(`count: expected an integer in [0, ${pairs.length >> 1}], got ${describe(count)}`);
    }
    return this.matcher.walk(pairs, count, false, this.nodes, this.blocks, this.holders, this.children);
  }

  /** Slots scored by the last {@link RadixIndex.matchSlotsU32}, in row order. @internal */
  get matchedSlots(): Int32Array {
    return this.matcher.scoredSlots;
  }

  /** Per-slot counts of the last {@link RadixIndex.matchSlotsU32}: overlap, device, host, disk at `4s`. @internal */
  get matchedCounts(): Int32Array {
    return this.matcher.slotCounts;
  }

  /** Changes whenever a cache slot is assigned or released (or the index restored). @internal */
  get cacheEpoch(): number {
    return this.caches.epoch;
  }

  /** Worker id of a live cache slot ('' for a free one). @internal */
  cacheWorkerId(slot: number): string {
    return this.caches.worker[slot] ?? '';
  }

  /** dp rank of a live cache slot. @internal */
  cacheDpRank(slot: number): number {
    return this.caches.rank[slot] ?? 0;
  }

  /** Paths a cache holds (any tier); every rank summed when `dpRank` is omitted; 0 for an unknown cache. */
  blockCount(workerId: string, dpRank?: number): number {
    checkWorkerId(workerId);
    if (dpRank !== undefined) checkRank(dpRank, 'dpRank');
    return this.caches.pathsOf(workerId, dpRank);
  }

  /** Every known cache. */
  workers(): WorkerKey[] {
    return this.caches.keys();
  }

  /** Nodes in use (the root not counted), (cache, path) entries held, and bytes of typed arrays reserved. */
  stats(): IndexStats {
    const entries = this.caches.entries();
    const bytes = this.nodes.byteLength + this.blocks.byteLength + this.holders.words.byteLength + this.children.slots.byteLength + this.names.slots.byteLength + this.aliases.rows.byteLength;
    return { nodes: this.nodes.live, entries, bytes };
  }

  /** The whole index as one checksummed buffer (typed arrays copied as they are). */
  snapshot(): Uint8Array {
    return encodeSnapshot(toParts(this.structures()));
  }

  /** Rebuilds an index from {@link RadixIndex.snapshot} bytes; throws an Error on a damaged or foreign buffer. */
  static restore(bytes: Uint8Array): RadixIndex {
    const parts = decodeSnapshot(bytes);
    const index = new RadixIndex();
    loadParts(index.structures(), parts);
    index.verify();
    return index;
  }

  // ───────────────────────────── caches ─────────────────────────────

  private knownSlot(workerId: string, dpRank: number): number {
    const slot = this.caches.known(workerId, dpRank);
    this.matcher.ensureSlot(slot);
    return slot;
  }

  // ───────────────────────────── stored ─────────────────────────────

  private store(s: number, hasParent: boolean, pLo: number, pHi: number, m: number, tierBit: number): ApplyResult {
    let pos = -1; // block id of the path walked so far; -1 = root
    if (hasParent) {
      if (!this.resolve(s, pLo, pHi)) return { applied: 0, error: 'PARENT_NOT_FOUND' };
      pos = this.resBlock;
    }
    const start = pos;
    // Check the whole chain and decide every change before making any.
    const event = this.event;
    const ev = event.names;
    const tok = event.tokens;
    const evBlock = event.blocks;
    const evKind = event.kinds;
    let prevLo = pLo;
    let prevHi = pHi;
    let hasPrev = hasParent;
    let onTree = true;
    let k = 0; // blocks 0..k-1 exist already
    let lastNode = -1; // holder word of `s` on the last node seen (nothing changes while checking)
    let lastValue = 0;
    // Blocks taking the canonical fast path cannot repeat each other's names (a canonical name names one
    // block), so the repeated-name set starts at the first other block, with every block before it.
    let dupOn = false;
    // Off the tree every name is looked up (and most inserted): the name-table slots are touched ahead,
    // TOUCH_CHUNK names at a time once fewer than TOUCH_LEAD are left, so their cache misses overlap and
    // the lines are still in L1 when used.
    let hashedFrom = m; // blocks from here on get their table hash from the touch
    let touchedTo = m;
    let pre = false; // off-tree new names go into the name table while checking
    let preBase = 0; // block id of off-tree event block i: preBase + i
    const hashes = event.hashes;
    // Nothing grows while checking: the columns can be read once.
    const { node: bNode, canon: bCanon, canonLo: cLo, canonHi: cHi } = this.blocks;
    const noAliases = this.caches.aliases[s] === 0;
    for (let i = 0; i < m; i++) {
      const nLo = ev[2 * i]!;
      const nHi = ev[2 * i + 1]!;
      if (hasPrev && nLo === prevLo && nHi === prevHi) return this.rejectStore();
      if (dupOn && !event.dupAdd(i)) return this.rejectStore();
      let q = -1;
      if (onTree) {
        q = this.step(pos, tok[2 * i]!, tok[2 * i + 1]!);
        if (q < 0) {
          onTree = false;
          hashedFrom = touchedTo = i;
          // New names are put into the name table right after their lookup, while its line is hot, when
          // that needs no growth (a rejection takes them back). Block ids: from the pool's top, in order.
          pre = noAliases && this.names.hasRoomFor(m - i) && this.blocks.top + (m - i) <= cLo.length;
          preBase = this.blocks.top - i;
        } else {
          pos = q;
          k = i + 1;
        }
      }
      let kind: number;
      if (q >= 0 && noAliases && bCanon[q] === 1 && cLo[q] === nLo && cHi[q] === nHi) {
        // The common case: the name is this block's canonical name (engines name paths alike on every worker).
        const n = bNode[q]!;
        if (n !== lastNode) {
          lastNode = n;
          lastValue = this.tree.holderValue(n, s);
        }
        if ((lastValue & CANON) !== 0) kind = K_BOUND;
        else if (lastValue >>> 20 >= NAME_MAX) throw new RangeError(`names: more than ${NAME_MAX} block hashes name one path of one cache`);
        else kind = K_CANON;
      } else {
        if (!dupOn && m > 1) {
          dupOn = true;
          event.dupReset(m);
          for (let x = 0; x <= i; x++) if (!event.dupAdd(x)) return this.rejectStore();
        }
        if (i + TOUCH_LEAD > touchedTo && touchedTo < m) {
          const to = Math.min(m, touchedTo + TOUCH_CHUNK);
          this.names.touch(ev, hashes, touchedTo, to);
          touchedTo = to;
        }
        if (i < hashedFrom) hashes[i] = NameTable.hash(nLo, nHi);
        const r = pre ? this.names.probe(hashes[i]!, nLo, nHi, this.blocks) : 0;
        if (r < 0) {
          // Off the tree (pre implies it), a name in no table: a new canonical name (classifyName's answer).
          const b = preBase + i;
          cLo[b] = nLo;
          cHi[b] = nHi;
          this.names.putAt(~r, b, hashes[i]!);
          kind = K_NEWCANON;
        } else {
          kind = this.classifyName(s, nLo, nHi, q, hashes[i]!);
          if (kind < 0) return this.rejectStore();
        }
      }
      evBlock[i] = q;
      evKind[i] = kind;
      hasPrev = true;
      prevLo = nLo;
      prevHi = nHi;
    }
    // Nothing below rejects or throws once names were put (`pre` needs a cache without aliases, whose
    // name count on a path is at most 1, so the NAME_MAX check below cannot fire).
    this.names.commit();

    let applied = 0;
    // Existing blocks: one holder update per run of consecutive blocks in one node with the same name kind.
    let i = 0;
    while (i < k) {
      const b0 = evBlock[i]!;
      const n = this.blocks.node[b0]!;
      const kind = evKind[i]!;
      const cls = kind === K_BOUND ? 0 : kind === K_ALIAS ? 1 : 2;
      let j = i + 1;
      while (j < k) {
        const b = evBlock[j]!;
        const kj = evKind[j]!;
        const cj = kj === K_BOUND ? 0 : kj === K_ALIAS ? 1 : 2;
        if (b !== evBlock[j - 1]! + 1 || this.blocks.node[b] !== n || cj !== cls) break;
        j++;
      }
      const old = this.tree.holderValue(n, s);
      let v = old === 0 ? s : old;
      if ((tiersOf(old) & tierBit) === 0) applied += j - i;
      v |= tierBit << TIER_SHIFT;
      if (cls !== 0) {
        if (v >>> 20 >= NAME_MAX) throw new RangeError(`names: more than ${NAME_MAX} block hashes name one path of one cache`);
        v += NAME_ONE;
        if (cls === 2) v |= CANON;
      }
      for (let x = i; x < j; x++) this.bindName(s, x, evBlock[x]!, false);
      this.tree.updateRange(n, b0 - this.nodes.start[n]!, b0 - this.nodes.start[n]! + (j - i), s, v);
      i = j;
    }
    if (k === m) return { applied };

    // New blocks: appended to the pool as one node per run of the same name kind.
    let parentPos = k > 0 ? evBlock[k - 1]! : start;
    if (parentPos >= 0) {
      const n = this.blocks.node[parentPos]!;
      const last = this.nodes.start[n]! + this.nodes.len[n]! - 1;
      if (parentPos < last) this.tree.split(n, parentPos - this.nodes.start[n]! + 1);
    }
    this.blocks.ensure(m - k);
    i = k;
    while (i < m) {
      const kind = evKind[i]!;
      let j = i + 1;
      while (j < m && evKind[j] === kind) j++;
      const v = s | (tierBit << TIER_SHIFT) | NAME_ONE | (kind === K_NEWCANON ? CANON : 0);
      const len = j - i;
      const first = this.blocks.top;
      let node = -1;
      if (parentPos >= 0) {
        const p = this.blocks.node[parentPos]!;
        if (this.nodes.kids[p] === 0 && this.nodes.start[p]! + this.nodes.len[p]! === first && this.nodes.hLen[p] === 1 && this.holders.words[this.nodes.hOff[p]!] === v) {
          node = p;
          this.nodes.len[p] += len;
        }
      }
      const { lo: bLo, hi: bHi, canon: bCanon } = this.blocks;
      for (let x = 0; x < len; x++) {
        bLo[first + x] = tok[2 * (i + x)]!;
        bHi[first + x] = tok[2 * (i + x) + 1]!;
        bCanon[first + x] = 0;
      }
      this.blocks.top += len;
      if (node < 0) {
        node = this.tree.allocNode();
        this.nodes.start[node] = first;
        this.nodes.len[node] = len;
        this.nodes.parent[node] = parentPos;
        this.nodes.kids[node] = 0;
        const off = this.holders.alloc(0);
        this.holders.words[off] = v;
        this.nodes.hOff[node] = off;
        this.nodes.hLen[node] = 1;
        this.nodes.hCap[node] = 0;
        this.blocks.node.fill(node, first, first + len);
        this.children.insert(node, this.nodes, this.blocks);
        if (parentPos >= 0) this.nodes.kids[this.blocks.node[parentPos]!]++;
        else this.nodes.rootKids++;
      } else {
        this.blocks.node.fill(node, first, first + len);
      }
      for (let x = i; x < j; x++) this.bindName(s, x, first + (x - i), pre);
      parentPos = first + len - 1;
      i = j;
    }
    applied += m - k;
    this.caches.paths[s] += m - k;
    return { applied };
  }

  /**
   * Records the name side of event block `i` (already classified) now bound to block `b`; `named`: a new
   * canonical name is in the name table already (put there while checking).
   */
  private bindName(s: number, i: number, b: number, named: boolean): void {
    const kind = this.event.kinds[i]!;
    if (kind === K_NEWCANON) {
      this.blocks.canon[b] = 1;
      if (!named) {
        this.blocks.canonLo[b] = this.event.names[2 * i]!;
        this.blocks.canonHi[b] = this.event.names[2 * i + 1]!;
        this.names.insertHashed(b, this.event.hashes[i]!);
      }
    } else if (kind === K_ALIAS) {
      this.aliases.insert(s, this.event.names[2 * i]!, this.event.names[2 * i + 1]!, b);
      this.caches.aliases[s]!++;
    }
  }

  /** Takes back the names a rejected store put into the name table while checking. */
  private rejectStore(): ApplyResult {
    this.names.rollback();
    return { applied: 0, error: 'INVALID_SEQUENCE' };
  }

  /**
   * What binding name (lo, hi) (table hash `h`) of cache `s` to block `q` (-1: a block not created yet)
   * means; -1 if it names another path.
   */
  private classifyName(s: number, lo: number, hi: number, q: number, h: number): number {
    if (this.caches.aliases[s]! > 0) {
      const x = this.aliases.lookup(s, lo, hi);
      if (x >= 0) return x === q ? K_BOUND : -1;
    }
    const g = this.names.lookupHashed(h, lo, hi, this.blocks);
    if (g >= 0) {
      const v = this.tree.holderValue(this.blocks.node[g]!, s);
      if ((v & CANON) !== 0) return g === q ? K_BOUND : -1;
      if (g === q) {
        if (v >>> 20 >= NAME_MAX) throw new RangeError(`names: more than ${NAME_MAX} block hashes name one path of one cache`);
        return K_CANON;
      }
      return K_ALIAS;
    }
    if (q < 0 || this.blocks.canon[q] === 0) return K_NEWCANON;
    return K_ALIAS;
  }

  /** The block following `pos` (-1: root) on tokens hash (lo, hi), or -1. */
  private step(pos: number, lo: number, hi: number): number {
    if (pos >= 0) {
      const blocks = this.blocks;
      const nodes = this.nodes;
      const n = blocks.node[pos]!;
      if (pos < nodes.start[n]! + nodes.len[n]! - 1) {
        return blocks.lo[pos + 1] === lo && blocks.hi[pos + 1] === hi ? pos + 1 : -1;
      }
    }
    const c = this.children.lookup(pos, lo, hi, this.nodes, this.blocks);
    return c < 0 ? -1 : this.nodes.start[c]!;
  }

  /** Finds the block cache `s` names (lo, hi) into `resBlock`/`resKind` (1 canonical, 2 alias). */
  private resolve(s: number, lo: number, hi: number): boolean {
    if (this.caches.aliases[s]! > 0) {
      const b = this.aliases.lookup(s, lo, hi);
      if (b >= 0) {
        this.resBlock = b;
        this.resKind = 2;
        return true;
      }
    }
    const g = this.names.lookup(lo, hi, this.blocks);
    if (g >= 0 && (this.tree.holderValue(this.blocks.node[g]!, s) & CANON) !== 0) {
      this.resBlock = g;
      this.resKind = 1;
      return true;
    }
    return false;
  }

  // ───────────────────────────── removed / cleared ─────────────────────────────

  private remove(s: number, m: number, tierBit: number): ApplyResult {
    const ev = this.event.names;
    let applied = 0;
    let missing = false;
    // A pending group: consecutive hashes naming a contiguous run of one node the same way.
    let gNode = -1;
    let gFirst = 0;
    let gLast = 0;
    let gKind = 0;
    let gJ = 0;
    // Holder word of `s` on the last node looked at (valid until the next flush changes things).
    let cacheNode = -1;
    let cacheValue = 0;
    // Removals never reallocate the block columns (only `top` moves): read them once.
    const blocks = this.blocks;
    const { node: bNode, canon: bCanon, canonLo: cLo, canonHi: cHi } = blocks;
    for (let j = 0; j < m; j++) {
      const lo = ev[2 * j]!;
      const hi = ev[2 * j + 1]!;
      let b = -1;
      let kind = 0;
      if (this.caches.aliases[s] === 0) {
        // Removals walk runs of blocks: try the blocks next to the last one before probing the table
        // (a block whose canonical name this is, is the one the table would return).
        let g = -1;
        const before = (gNode >= 0 ? gFirst : this.removeHintFirst) - 1;
        const after = (gNode >= 0 ? gLast : this.removeHintLast) + 1;
        if (before >= 0 && before < blocks.top && bCanon[before] === 1 && cLo[before] === lo && cHi[before] === hi) g = before;
        else if (after >= 0 && after < blocks.top && bCanon[after] === 1 && cLo[after] === lo && cHi[after] === hi) g = after;
        else g = this.names.lookup(lo, hi, blocks);
        if (g >= 0) {
          const n = bNode[g]!;
          if (n !== cacheNode) {
            cacheNode = n;
            cacheValue = this.tree.holderValue(n, s);
          }
          if ((cacheValue & CANON) !== 0 && (tiersOf(cacheValue) & tierBit) !== 0) {
            b = g;
            kind = 1;
          }
        }
      } else if (this.resolveHeld(s, lo, hi, tierBit)) {
        b = this.resBlock;
        kind = this.resKind;
      }
      if (b >= 0 && gNode >= 0 && bNode[b] === gNode && kind === gKind && (b === gLast + 1 || b === gFirst - 1)) {
        if (b > gLast) gLast = b;
        else gFirst = b;
        continue;
      }
      if (gNode >= 0) {
        applied += this.flushRemoval(s, tierBit, gNode, gFirst, gLast, gKind, gJ, j);
        gNode = -1;
        cacheNode = -1;
        // The flush may have removed what this hash names (a repeat): look again.
        if (b >= 0) {
          b = -1;
          if (this.resolveHeld(s, lo, hi, tierBit)) {
            b = this.resBlock;
            kind = this.resKind;
          }
        }
      }
      if (b < 0) {
        missing = true;
        continue;
      }
      gNode = bNode[b]!;
      gFirst = gLast = b;
      gKind = kind;
      gJ = j;
    }
    if (gNode >= 0) {
      applied += this.flushRemoval(s, tierBit, gNode, gFirst, gLast, gKind, gJ, m);
      this.removeHintFirst = gFirst;
      this.removeHintLast = gLast;
    }
    return missing ? { applied, error: 'BLOCK_NOT_FOUND' } : { applied };
  }

  /** {@link resolve}, and the block is held in tier `tierBit`. */
  private resolveHeld(s: number, lo: number, hi: number, tierBit: number): boolean {
    return this.resolve(s, lo, hi) && (tiersOf(this.tree.holderValue(this.blocks.node[this.resBlock]!, s)) & tierBit) !== 0;
  }

  private flushRemoval(s: number, tierBit: number, n: number, first: number, last: number, kind: number, j0: number, j1: number): number {
    const old = this.tree.holderValue(n, s);
    let v = old & ~(tierBit << TIER_SHIFT);
    if (tiersOf(v) === 0) {
      // Held in no tier any more: the names used here go.
      v -= NAME_ONE;
      if (kind === 1) v &= ~CANON;
      else for (let j = j0; j < j1; j++) if (this.aliases.delete(s, this.event.names[2 * j]!, this.event.names[2 * j + 1]!)) this.caches.aliases[s]!--;
      if (v >>> 20 === 0) v = 0;
    }
    const st = this.nodes.start[n]!;
    this.tree.updateRange(n, first - st, last - st + 1, s, v);
    return last - first + 1;
  }

  /** Drops every entry and name of a cache; returns the (path, tier) entries dropped. */
  private clearSlot(s: number): number {
    const dropped = this.tree.dropHolder(s);
    if (this.caches.aliases[s]! > 0) {
      this.aliases.dropSlot(s);
      this.caches.aliases[s] = 0;
    }
    this.tree.settleAll();
    this.caches.paths[s] = 0;
    return dropped;
  }

  // ───────────────────────────── compaction ─────────────────────────────

  /** Compacts the block pool when more than half of it is holes. */
  private maybeCompact(): void {
    if (this.blocks.wantsCompaction()) this.compact();
  }

  /** Closes the pool's holes (block ids change; the tree re-points names and child keys). */
  private compact(): void {
    this.tree.compact();
  }

  // ───────────────────────────── matching ─────────────────────────────

  private match(q: Uint32Array, count: number, earlyExit: boolean): OverlapScores {
    return this.matcher.match(q, count, earlyExit, this.nodes, this.blocks, this.holders, this.children, this.caches.worker, this.caches.rank);
  }

  // ───────────────────────────── snapshot ─────────────────────────────

  /** The structures a snapshot holds. */
  private structures(): IndexStructures {
    const { nodes, blocks, holders, children, names, aliases, caches, matcher } = this;
    return { nodes, blocks, holders, children, names, aliases, caches, matcher };
  }

  /**
   * Checks every structural invariant; throws an Error naming the first broken one.
   * Used by {@link RadixIndex.restore}; also handy in white-box tests.
   * @internal
   */
  verify(): void {
    const { nodes, blocks, holders, children, names, aliases, caches } = this;
    verifyIndex({ nodes, blocks, holders, children, names, aliases, slotLive: caches.live, slotPaths: caches.paths, slotAliases: caches.aliases });
  }
}
