/**
 * Baseline "inverted index" design: one `Map<sequenceHash, Map<worker, tierMask>>`; a query
 * computes the prompt's sequence hashes and intersects the holder sets depth by depth until none
 * is left. O(depth × holders) per query. Valid event streams only.
 */
import type { Hasher } from '../../src/hashing/index.js';
import type { ApplyResult, KvEvent, OverlapScores, TierCounts } from '../../src/radix/types.js';
import { BaselineScores, TIER_BITS, countBest } from './scores.js';
import { chainSequenceHashes } from './sequence.js';
import type { BenchIndex } from './types.js';

interface Worker {
  workerId: string;
  dpRank: number;
  /** engine block hash → sequence hash. */
  names: Map<bigint, bigint>;
}

/** Sequence hash → holders. */
export class InvertedIndex implements BenchIndex {
  readonly #hasher: Hasher;
  readonly #workers = new Map<string, Worker>();
  readonly #holders = new Map<bigint, Map<Worker, number>>();

  constructor(hasher: Hasher) {
    this.#hasher = hasher;
  }

  #worker(workerId: string, dpRank: number): Worker {
    const key = `${dpRank}:${workerId}`;
    let w = this.#workers.get(key);
    if (w === undefined) this.#workers.set(key, (w = { workerId, dpRank, names: new Map() }));
    return w;
  }

  #drop(w: Worker, seq: bigint, bit: number): boolean {
    const holders = this.#holders.get(seq);
    const mask = holders?.get(w) ?? 0;
    if ((mask & bit) === 0) return false;
    if (mask === bit) {
      holders!.delete(w);
      if (holders!.size === 0) this.#holders.delete(seq);
    } else holders!.set(w, mask & ~bit);
    return true;
  }

  apply(event: KvEvent): ApplyResult {
    const w = this.#worker(event.workerId, event.dpRank ?? 0);
    const bit = TIER_BITS[event.tier ?? 'device'];
    if (event.type === 'cleared') {
      let applied = 0;
      for (const seq of new Set(w.names.values())) for (const b of [1, 2, 4]) if (this.#drop(w, seq, b)) applied++;
      w.names.clear();
      return { applied };
    }
    if (event.type === 'removed') {
      let applied = 0;
      let missing = false;
      for (const h of event.blockHashes) {
        const seq = w.names.get(h);
        if (seq === undefined || !this.#drop(w, seq, bit)) {
          missing = true;
          continue;
        }
        applied++;
        if (!this.#holders.get(seq)?.has(w)) w.names.delete(h);
      }
      return missing ? { applied, error: 'BLOCK_NOT_FOUND' } : { applied };
    }
    let parentSeq: bigint | null = null;
    if (event.parentHash !== undefined && event.parentHash !== null) {
      const p = w.names.get(event.parentHash);
      if (p === undefined) return { applied: 0, error: 'PARENT_NOT_FOUND' };
      parentSeq = p;
    }
    const seqs = chainSequenceHashes(this.#hasher, parentSeq, event.blocks.map((b) => b.tokensHash));
    let applied = 0;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i]!;
      let holders = this.#holders.get(seq);
      if (holders === undefined) this.#holders.set(seq, (holders = new Map()));
      const mask = holders.get(w) ?? 0;
      if ((mask & bit) === 0) applied++;
      holders.set(w, mask | bit);
      w.names.set(event.blocks[i]!.blockHash, seq);
    }
    return { applied };
  }

  findMatches(tokensHashes: BigUint64Array): OverlapScores {
    const seqs = chainSequenceHashes(this.#hasher, null, tokensHashes);
    const scores = new BaselineScores();
    const tiers = new Map<Worker, TierCounts>();
    let alive: Worker[] | null = null;
    let k = 0;
    for (; k < seqs.length; k++) {
      const holders = this.#holders.get(seqs[k]!);
      if (holders === undefined) break;
      const next: Worker[] = [];
      if (alive === null) {
        for (const [w, mask] of holders) {
          next.push(w);
          const t = { device: 0, host: 0, disk: 0 };
          countBest(t, mask);
          tiers.set(w, t);
        }
      } else {
        for (const w of alive) {
          const mask = holders.get(w);
          if (mask === undefined) {
            scores.set(w.workerId, w.dpRank, k, tiers.get(w)!);
            continue;
          }
          countBest(tiers.get(w)!, mask);
          next.push(w);
        }
      }
      if (next.length === 0) break;
      alive = next;
    }
    for (const w of alive ?? []) if (scores.get(w.workerId, w.dpRank) === 0) scores.set(w.workerId, w.dpRank, k, tiers.get(w)!);
    return scores;
  }

  removeWorker(workerId: string, dpRank?: number): void {
    for (const [key, w] of this.#workers) {
      if (w.workerId !== workerId || (dpRank !== undefined && w.dpRank !== dpRank)) continue;
      for (const seq of new Set(w.names.values())) for (const b of [1, 2, 4]) this.#drop(w, seq, b);
      this.#workers.delete(key);
    }
  }

  stats(): { nodes: number; entries: number; bytes: number } {
    let entries = 0;
    for (const h of this.#holders.values()) entries += h.size;
    return { nodes: this.#holders.size, entries, bytes: 0 };
  }
}
