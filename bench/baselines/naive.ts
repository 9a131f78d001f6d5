/**
 * Baseline "naive" design: each worker keeps a `Map<sequenceHash, tierMask>`; a query computes the
 * prompt's sequence hashes and walks every worker block by block until its first miss.
 * O(workers × depth) Map lookups per query. Valid event streams only (no INVALID_SEQUENCE checks).
 */
import type { Hasher } from '../../src/hashing/index.js';
import type { ApplyResult, KvEvent, OverlapScores, TierCounts } from '../../src/radix/types.js';
import { BaselineScores, TIER_BITS, countBest } from './scores.js';
import { chainSequenceHashes } from './sequence.js';
import type { BenchIndex } from './types.js';

interface WorkerCache {
  workerId: string;
  dpRank: number;
  /** sequence hash → tier mask. */
  entries: Map<bigint, number>;
  /** engine block hash → sequence hash. */
  names: Map<bigint, bigint>;
}

/** Per-worker sequence-hash maps. */
export class NaiveIndex implements BenchIndex {
  readonly #hasher: Hasher;
  readonly #workers = new Map<string, WorkerCache>();

  constructor(hasher: Hasher) {
    this.#hasher = hasher;
  }

  #cache(workerId: string, dpRank: number): WorkerCache {
    const key = `${dpRank}:${workerId}`;
    let c = this.#workers.get(key);
    if (c === undefined) this.#workers.set(key, (c = { workerId, dpRank, entries: new Map(), names: new Map() }));
    return c;
  }

  apply(event: KvEvent): ApplyResult {
    const c = this.#cache(event.workerId, event.dpRank ?? 0);
    const bit = TIER_BITS[event.tier ?? 'device'];
    if (event.type === 'cleared') {
      let applied = 0;
      for (const mask of c.entries.values()) applied += (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1);
      c.entries.clear();
      c.names.clear();
      return { applied };
    }
    if (event.type === 'removed') {
      let applied = 0;
      let missing = false;
      for (const h of event.blockHashes) {
        const seq = c.names.get(h);
        const mask = seq === undefined ? 0 : (c.entries.get(seq) ?? 0);
        if (seq === undefined || (mask & bit) === 0) {
          missing = true;
          continue;
        }
        applied++;
        if (mask === bit) {
          c.entries.delete(seq);
          c.names.delete(h);
        } else c.entries.set(seq, mask & ~bit);
      }
      return missing ? { applied, error: 'BLOCK_NOT_FOUND' } : { applied };
    }
    let parentSeq: bigint | null = null;
    if (event.parentHash !== undefined && event.parentHash !== null) {
      const p = c.names.get(event.parentHash);
      if (p === undefined) return { applied: 0, error: 'PARENT_NOT_FOUND' };
      parentSeq = p;
    }
    const seqs = chainSequenceHashes(this.#hasher, parentSeq, event.blocks.map((b) => b.tokensHash));
    let applied = 0;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i]!;
      const mask = c.entries.get(seq) ?? 0;
      if ((mask & bit) === 0) applied++;
      c.entries.set(seq, mask | bit);
      c.names.set(event.blocks[i]!.blockHash, seq);
    }
    return { applied };
  }

  findMatches(tokensHashes: BigUint64Array): OverlapScores {
    const seqs = chainSequenceHashes(this.#hasher, null, tokensHashes);
    const scores = new BaselineScores();
    for (const c of this.#workers.values()) {
      const tiers: TierCounts = { device: 0, host: 0, disk: 0 };
      let k = 0;
      for (; k < seqs.length; k++) {
        const mask = c.entries.get(seqs[k]!);
        if (mask === undefined) break;
        countBest(tiers, mask);
      }
      if (k > 0) scores.set(c.workerId, c.dpRank, k, tiers);
    }
    return scores;
  }

  removeWorker(workerId: string, dpRank?: number): void {
    for (const [key, c] of this.#workers) {
      if (c.workerId === workerId && (dpRank === undefined || c.dpRank === dpRank)) this.#workers.delete(key);
    }
  }

  stats(): { nodes: number; entries: number; bytes: number } {
    let entries = 0;
    for (const c of this.#workers.values()) entries += c.entries.size;
    return { nodes: 0, entries, bytes: 0 };
  }
}
