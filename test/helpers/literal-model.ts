/**
 * The most literal model of docs/INDEX-SEMANTICS.md: each cache is a Map from a path's text
 * ("h1,h2,…") to its tier mask plus a name table, and findMatches recomputes S_k by filtering the
 * caches, exactly as the definition reads. Quadratic and slow, written differently from the
 * reference index on purpose, so the differential test also checks the reference. Valid events only
 * (validation is covered by the rules test).
 */
import type { ApplyResult, KvEvent, Tier, TierCounts, WorkerKey } from '../../src/radix/types.js';

const BIT = { device: 1, host: 2, disk: 4 } as const;

interface ModelCache {
  workerId: string;
  dpRank: number;
  entries: Map<string, number>;
  names: Map<bigint, string>;
}

/** Per-cache result of {@link LiteralModel.findMatches}. */
export interface ModelScore extends WorkerKey {
  blocks: number;
  tiers: TierCounts;
}

const keyOf = (workerId: string, dpRank: number): string => JSON.stringify([workerId, dpRank]);
const extend = (path: string, hash: bigint): string => (path === '' ? `${hash}` : `${path},${hash}`);

export class LiteralModel {
  readonly caches = new Map<string, ModelCache>();

  apply(event: KvEvent): ApplyResult {
    const dpRank = event.dpRank ?? 0;
    const key = keyOf(event.workerId, dpRank);
    let cache = this.caches.get(key);
    if (cache === undefined) {
      cache = { workerId: event.workerId, dpRank, entries: new Map(), names: new Map() };
      this.caches.set(key, cache);
    }
    const bit = BIT[event.tier ?? 'device'];
    if (event.type === 'cleared') {
      let applied = 0;
      for (const mask of cache.entries.values()) applied += ((mask >> 0) & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
      cache.entries.clear();
      cache.names.clear();
      return { applied };
    }
    if (event.type === 'removed') {
      let applied = 0;
      let missing = false;
      for (const h of event.blockHashes) {
        const path = cache.names.get(h);
        const mask = path === undefined ? 0 : (cache.entries.get(path) ?? 0);
        if (path === undefined || !(mask & bit)) {
          missing = true;
          continue;
        }
        applied++;
        if (mask === bit) {
          cache.entries.delete(path);
          cache.names.delete(h);
        } else {
          cache.entries.set(path, mask & ~bit);
        }
      }
      return missing ? { applied, error: 'BLOCK_NOT_FOUND' } : { applied };
    }
    const parentHash = event.parentHash ?? null;
    let path = '';
    if (parentHash !== null) {
      const named = cache.names.get(parentHash);
      if (named === undefined) return { applied: 0, error: 'PARENT_NOT_FOUND' };
      path = named;
    }
    const paths: string[] = [];
    const namedHere = new Map<bigint, string>();
    let previous = parentHash;
    for (const { blockHash, tokensHash } of event.blocks) {
      path = extend(path, tokensHash);
      paths.push(path);
      if (blockHash === previous) return { applied: 0, error: 'INVALID_SEQUENCE' };
      const named = namedHere.get(blockHash) ?? cache.names.get(blockHash);
      if (named !== undefined && named !== path) return { applied: 0, error: 'INVALID_SEQUENCE' };
      namedHere.set(blockHash, path);
      previous = blockHash;
    }
    let applied = 0;
    event.blocks.forEach(({ blockHash }, i) => {
      const p = paths[i]!;
      cache.names.set(blockHash, p);
      const mask = cache.entries.get(p) ?? 0;
      if (!(mask & bit)) {
        applied++;
        cache.entries.set(p, mask | bit);
      }
    });
    return { applied };
  }

  removeWorker(workerId: string, dpRank?: number): void {
    for (const [key, cache] of [...this.caches]) {
      if (cache.workerId === workerId && (dpRank === undefined || cache.dpRank === dpRank)) this.caches.delete(key);
    }
  }

  /** Scores of the caches with score ≥ 1. */
  findMatches(query: readonly bigint[], earlyExit: boolean): ModelScore[] {
    let alive = [...this.caches.values()];
    const scores = new Map<ModelCache, ModelScore>();
    let path = '';
    for (let k = 1; k <= query.length; k++) {
      path = extend(path, query[k - 1]!);
      const holding = alive.filter((c) => c.entries.has(path));
      if (holding.length === 0) break;
      for (const c of holding) {
        let s = scores.get(c);
        if (s === undefined) {
          s = { workerId: c.workerId, dpRank: c.dpRank, blocks: 0, tiers: { device: 0, host: 0, disk: 0 } };
          scores.set(c, s);
        }
        s.blocks = k;
        const mask = c.entries.get(path)!;
        s.tiers[mask & 1 ? 'device' : mask & 2 ? 'host' : 'disk']++;
      }
      alive = holding;
      if (earlyExit && holding.length === 1) break;
    }
    return [...scores.values()];
  }

  /** The cache's names now, with the best tier each path is held in (for stream generation). */
  names(workerId: string, dpRank: number): Array<{ blockHash: bigint; path: bigint[]; tier: Tier }> {
    const cache = this.caches.get(keyOf(workerId, dpRank));
    if (cache === undefined) return [];
    const out: Array<{ blockHash: bigint; path: bigint[]; tier: Tier }> = [];
    for (const [blockHash, path] of cache.names) {
      const mask = cache.entries.get(path) ?? 0;
      if (mask === 0) continue; // a second name of a dropped path
      const tier: Tier = mask & 1 ? 'device' : mask & 2 ? 'host' : 'disk';
      out.push({ blockHash, path: path.split(',').map(BigInt), tier });
    }
    return out;
  }

  blockCount(workerId: string, dpRank?: number): number {
    let n = 0;
    for (const c of this.caches.values()) {
      if (c.workerId === workerId && (dpRank === undefined || c.dpRank === dpRank)) n += c.entries.size;
    }
    return n;
  }

  workers(): WorkerKey[] {
    return [...this.caches.values()].map(({ workerId, dpRank }) => ({ workerId, dpRank }));
  }

  entries(): number {
    let n = 0;
    for (const c of this.caches.values()) n += c.entries.size;
    return n;
  }
}
