/** The reference index's `OverlapScores`: a plain map from cache to score and tier counts. */
import type { OverlapScores, TierCounts, WorkerOverlap } from '../../src/radix/types.js';

interface Row {
  workerId: string;
  dpRank: number;
  blocks: number;
  tiers: TierCounts;
}

/** Builds {@link OverlapScores} from rows with score ≥ 1. */
export class ReferenceScores implements OverlapScores {
  readonly #rows = new Map<string, Map<number, Row>>();
  #size = 0;

  /** Adds (or returns the existing) row of a cache; starts at 0 blocks. */
  row(workerId: string, dpRank: number): Row {
    let ranks = this.#rows.get(workerId);
    if (ranks === undefined) this.#rows.set(workerId, (ranks = new Map()));
    let row = ranks.get(dpRank);
    if (row === undefined) {
      row = { workerId, dpRank, blocks: 0, tiers: { device: 0, host: 0, disk: 0 } };
      ranks.set(dpRank, row);
      this.#size++;
    }
    return row;
  }

  get size(): number {
    return this.#size;
  }

  get(workerId: string, dpRank = 0): number {
    return this.#rows.get(workerId)?.get(dpRank)?.blocks ?? 0;
  }

  tiers(workerId: string, dpRank = 0): TierCounts {
    const row = this.#rows.get(workerId)?.get(dpRank);
    return row === undefined ? { device: 0, host: 0, disk: 0 } : { ...row.tiers };
  }

  *[Symbol.iterator](): Iterator<WorkerOverlap> {
    for (const ranks of this.#rows.values()) {
      for (const row of ranks.values()) yield { workerId: row.workerId, dpRank: row.dpRank, blocks: row.blocks };
    }
  }
}
