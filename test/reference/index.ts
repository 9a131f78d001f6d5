/**
 * The reference index: docs/INDEX-SEMANTICS.md written as plainly as possible, with Maps and Sets.
 *
 * It is what the optimized `RadixIndex` is tested against (differential tests) and the baseline
 * of the benchmark. Clarity first, then speed: every path is a node of a trie of Maps (so a path is
 * identified by its node, not by a string of its hashes), and each cache keeps its entries and its
 * name table in plain Maps. Never shipped.
 */
import type {
  ApplyResult,
  FindMatchesOptions,
  IndexStats,
  KvEvent,
  OverlapScores,
  Tier,
  TierCounts,
  WorkerKey,
} from '../../src/radix/types.js';
import { ReferenceScores } from './scores.js';
import { decodeSnapshot, encodeSnapshot, type SnapshotData } from './snapshot.js';
import { checkEvent, checkQuery, checkRank, checkWorkerId, type CheckedEvent } from './validate.js';

/** Tier bits of an entry mask. */
const TIER_BIT: Record<Tier, number> = { device: 1, host: 2, disk: 4 };

/** One path: the node reached from the root by its tokens hashes. */
class PathNode {
  readonly children = new Map<bigint, PathNode>();
  /** Caches holding this path in at least one tier. */
  readonly holders = new Set<Cache>();
  /** How many names (of any cache) point at this node; a named node is kept even if nobody holds it. */
  nameRefs = 0;
  constructor(
    readonly parent: PathNode | null,
    readonly tokensHash: bigint,
    readonly depth: number,
  ) {}
}

/** One cache `(workerId, dpRank)`. */
class Cache {
  /** Path → tier mask (never 0). */
  readonly entries = new Map<PathNode, number>();
  /** Block hash → path. */
  readonly names = new Map<bigint, PathNode>();
  constructor(
    readonly workerId: string,
    readonly dpRank: number,
  ) {}
}

/** A cache of S_k and its score row. */
interface Holding {
  cache: Cache;
  row: ReturnType<ReferenceScores['row']>;
}

function bestTier(mask: number): keyof TierCounts {
  if (mask & TIER_BIT.device) return 'device';
  if (mask & TIER_BIT.host) return 'host';
  return 'disk';
}

function popcount(mask: number): number {
  return (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
}

/** Same public API as `RadixIndex`, obviously correct, not fast. */
export class ReferenceIndex {
  readonly #root = new PathNode(null, 0n, 0);
  /** workerId → dpRank → cache: the known caches. */
  readonly #caches = new Map<string, Map<number, Cache>>();
  #nodes = 0;

  /** Applies one event; see INDEX-SEMANTICS.md. Throws TypeError / RangeError on malformed input. */
  apply(event: KvEvent): ApplyResult {
    const checked = checkEvent(event);
    const cache = this.#knownCache(checked.workerId, checked.dpRank);
    return this.#applyChecked(cache, checked);
  }

  /** Forgets a worker: one rank, or every rank when `dpRank` is omitted. Unknown workers are a no-op. */
  removeWorker(workerId: string, dpRank?: number): void {
    checkWorkerId(workerId);
    const ranks = this.#caches.get(workerId);
    if (dpRank !== undefined) checkRank(dpRank, 'dpRank');
    if (ranks === undefined) return;
    for (const [rank, cache] of [...ranks]) {
      if (dpRank !== undefined && rank !== dpRank) continue;
      this.#clear(cache);
      ranks.delete(rank);
    }
    if (ranks.size === 0) this.#caches.delete(workerId);
  }

  /** Per-cache overlap of a prompt's tokens hashes. */
  findMatches(tokensHashes: BigUint64Array | readonly bigint[], options?: FindMatchesOptions): OverlapScores {
    const query = checkQuery(tokensHashes);
    const earlyExit = options?.earlyExit === true;
    const scores = new ReferenceScores();
    // S_k as caches with their score rows; null is S_0 (every cache).
    let alive: Holding[] | null = null;
    let node = this.#root;
    for (let k = 1; k <= query.length; k++) {
      const next = node.children.get(query[k - 1]!);
      if (next === undefined) break;
      const holders = next.holders;
      let holding: Holding[];
      if (alive === null) holding = [...holders].map((cache) => ({ cache, row: scores.row(cache.workerId, cache.dpRank) }));
      else holding = alive.every((a) => holders.has(a.cache)) ? alive : alive.filter((a) => holders.has(a.cache));
      if (holding.length === 0) break;
      for (const { cache, row } of holding) {
        row.blocks = k;
        row.tiers[bestTier(cache.entries.get(next)!)]++;
      }
      alive = holding;
      node = next;
      if (earlyExit && holding.length === 1) break;
    }
    return scores;
  }

  /** {@link findMatches} over `count` hashes given as (lo, hi) u32 pairs. */
  findMatchesU32(pairs: Uint32Array, count: number, options?: FindMatchesOptions): OverlapScores {
    if (!(pairs instanceof Uint32Array)) throw new TypeError('pairs: expected a Uint32Array');
    if (!Number.isSafeInteger(count) || count < 0 || count * 2 > pairs.length) {
      throw new RangeError(`count: expected an integer in [0, ${pairs.length >> 1}], got ${count}`);
    }
    const query = new Array<bigint>(count);
    for (let i = 0; i < count; i++) query[i] = (BigInt(pairs[2 * i + 1]!) << 32n) | BigInt(pairs[2 * i]!);
    return this.findMatches(query, options);
  }

  /** Paths held by a cache, any tier; summed over every rank when `dpRank` is omitted; 0 when unknown. */
  blockCount(workerId: string, dpRank?: number): number {
    const ranks = this.#caches.get(workerId);
    if (ranks === undefined) return 0;
    if (dpRank !== undefined) return ranks.get(dpRank)?.entries.size ?? 0;
    let sum = 0;
    for (const cache of ranks.values()) sum += cache.entries.size;
    return sum;
  }

  /** Every known cache. */
  workers(): WorkerKey[] {
    const out: WorkerKey[] = [];
    for (const ranks of this.#caches.values()) {
      for (const cache of ranks.values()) out.push({ workerId: cache.workerId, dpRank: cache.dpRank });
    }
    return out;
  }

  /** `nodes`: trie nodes in use (the root not counted); `entries`: (cache, path) pairs held; `bytes`: 0 (no typed arrays). */
  stats(): IndexStats {
    let entries = 0;
    for (const ranks of this.#caches.values()) for (const cache of ranks.values()) entries += cache.entries.size;
    return { nodes: this.#nodes, entries, bytes: 0 };
  }

  /** The whole state as bytes (checksummed JSON). */
  snapshot(): Uint8Array {
    const ids = new Map<PathNode, number>([[this.#root, 0]]);
    const nodes: Array<[number, string]> = [];
    // Depth can reach thousands; an explicit stack avoids a deep recursion.
    const stack: PathNode[] = [this.#root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const child of node.children.values()) {
        ids.set(child, ids.size);
        nodes.push([ids.get(node)!, child.tokensHash.toString()]);
        stack.push(child);
      }
    }
    const caches: SnapshotData['caches'] = [];
    for (const ranks of this.#caches.values()) {
      for (const cache of ranks.values()) {
        caches.push({
          workerId: cache.workerId,
          dpRank: cache.dpRank,
          entries: [...cache.entries].map(([node, mask]) => [ids.get(node)!, mask]),
          names: [...cache.names].map(([hash, node]) => [hash.toString(), ids.get(node)!]),
        });
      }
    }
    return encodeSnapshot({ nodes, caches });
  }

  /** Rebuilds an index from {@link snapshot} bytes; throws an Error on anything else. */
  static restore(bytes: Uint8Array): ReferenceIndex {
    const data = decodeSnapshot(bytes); // throws on a bad envelope or shape
    const index = new ReferenceIndex();
    const nodes: PathNode[] = [index.#root];
    for (const [parentId, hash] of data.nodes) {
      const parent = nodes[parentId];
      if (parent === undefined) throw new Error(`ReferenceIndex.restore: node parent ${parentId} not defined yet`);
      const tokensHash = BigInt(hash);
      if (parent.children.has(tokensHash)) throw new Error('ReferenceIndex.restore: duplicate child');
      const node = new PathNode(parent, tokensHash, parent.depth + 1);
      parent.children.set(tokensHash, node);
      nodes.push(node);
    }
    index.#nodes = nodes.length - 1;
    const nodeAt = (id: number): PathNode => {
      const node = nodes[id];
      if (node === undefined || id === 0) throw new Error(`ReferenceIndex.restore: bad node id ${id}`);
      return node;
    };
    for (const c of data.caches) {
      if (index.#caches.get(c.workerId)?.has(c.dpRank)) throw new Error('ReferenceIndex.restore: duplicate cache');
      const cache = index.#knownCache(c.workerId, c.dpRank);
      for (const [id, mask] of c.entries) {
        const node = nodeAt(id);
        if (cache.entries.has(node)) throw new Error('ReferenceIndex.restore: duplicate entry');
        cache.entries.set(node, mask);
        node.holders.add(cache);
      }
      for (const [hash, id] of c.names) {
        const blockHash = BigInt(hash);
        if (cache.names.has(blockHash)) throw new Error('ReferenceIndex.restore: duplicate name');
        const node = nodeAt(id);
        cache.names.set(blockHash, node);
        node.nameRefs++;
      }
    }
    // A well-formed snapshot has no dead node; refuse one that does rather than carry it.
    for (let id = 1; id < nodes.length; id++) {
      const node = nodes[id]!;
      if (node.holders.size === 0 && node.children.size === 0 && node.nameRefs === 0) {
        throw new Error('ReferenceIndex.restore: unreferenced node');
      }
    }
    return index;
  }

  #knownCache(workerId: string, dpRank: number): Cache {
    let ranks = this.#caches.get(workerId);
    if (ranks === undefined) this.#caches.set(workerId, (ranks = new Map()));
    let cache = ranks.get(dpRank);
    if (cache === undefined) ranks.set(dpRank, (cache = new Cache(workerId, dpRank)));
    return cache;
  }

  #applyChecked(cache: Cache, event: CheckedEvent): ApplyResult {
    switch (event.type) {
      case 'stored':
        return this.#store(cache, event.parentHash, event.blocks, TIER_BIT[event.tier]);
      case 'removed':
        return this.#remove(cache, event.blockHashes, TIER_BIT[event.tier]);
      case 'cleared':
        return { applied: this.#clear(cache) };
    }
  }

  #store(
    cache: Cache,
    parentHash: bigint | null,
    blocks: ReadonlyArray<{ blockHash: bigint; tokensHash: bigint }>,
    bit: number,
  ): ApplyResult {
    let start = this.#root;
    if (parentHash !== null) {
      const parent = cache.names.get(parentHash);
      if (parent === undefined) return { applied: 0, error: 'PARENT_NOT_FOUND' };
      start = parent;
    }
    // Check the whole chain before changing anything. A path not yet in the trie is `undefined`:
    // no existing name can point at it.
    let previous: bigint | null = parentHash;
    let node: PathNode | undefined = start;
    const namedInEvent = new Set<bigint>();
    for (const { blockHash, tokensHash } of blocks) {
      node = node?.children.get(tokensHash);
      if (previous !== null && blockHash === previous) return { applied: 0, error: 'INVALID_SEQUENCE' };
      // Paths within one event have different lengths, so a repeated name always names two paths.
      if (namedInEvent.has(blockHash)) return { applied: 0, error: 'INVALID_SEQUENCE' };
      const named = cache.names.get(blockHash);
      if (named !== undefined && named !== node) return { applied: 0, error: 'INVALID_SEQUENCE' };
      namedInEvent.add(blockHash);
      previous = blockHash;
    }
    let applied = 0;
    let path = start;
    for (const { blockHash, tokensHash } of blocks) {
      path = this.#child(path, tokensHash);
      if (cache.names.get(blockHash) !== path) {
        cache.names.set(blockHash, path);
        path.nameRefs++;
      }
      const mask = cache.entries.get(path) ?? 0;
      if ((mask & bit) === 0) {
        applied++;
        cache.entries.set(path, mask | bit);
        path.holders.add(cache);
      }
    }
    return { applied };
  }

  #remove(cache: Cache, blockHashes: readonly bigint[], bit: number): ApplyResult {
    let applied = 0;
    let missing = false;
    for (const blockHash of blockHashes) {
      const path = cache.names.get(blockHash);
      const mask = path === undefined ? 0 : (cache.entries.get(path) ?? 0);
      if (path === undefined || (mask & bit) === 0) {
        missing = true;
        continue;
      }
      applied++;
      if (mask !== bit) {
        cache.entries.set(path, mask & ~bit);
        continue;
      }
      // Held in no tier any more: drop the entry and this name.
      cache.entries.delete(path);
      path.holders.delete(cache);
      cache.names.delete(blockHash);
      path.nameRefs--;
      this.#release(path);
    }
    return missing ? { applied, error: 'BLOCK_NOT_FOUND' } : { applied };
  }

  /** Drops every entry and name of a cache; returns the (path, tier) entries dropped. */
  #clear(cache: Cache): number {
    let dropped = 0;
    const touched: PathNode[] = [];
    for (const [path, mask] of cache.entries) {
      dropped += popcount(mask);
      path.holders.delete(cache);
      touched.push(path);
    }
    for (const path of cache.names.values()) {
      path.nameRefs--;
      touched.push(path);
    }
    cache.entries.clear();
    cache.names.clear();
    for (const path of touched) this.#release(path);
    return dropped;
  }

  #child(parent: PathNode, tokensHash: bigint): PathNode {
    let child = parent.children.get(tokensHash);
    if (child === undefined) {
      child = new PathNode(parent, tokensHash, parent.depth + 1);
      parent.children.set(tokensHash, child);
      this.#nodes++;
    }
    return child;
  }

  /** Frees a node nobody holds, names or descends through, then its parents likewise. */
  #release(start: PathNode): void {
    let node = start;
    while (node.parent !== null && node.holders.size === 0 && node.children.size === 0 && node.nameRefs === 0) {
      // Already freed (reached twice from one clear): its parent no longer maps to it.
      if (node.parent.children.get(node.tokensHash) !== node) return;
      node.parent.children.delete(node.tokensHash);
      this.#nodes--;
      node = node.parent;
    }
  }
}
