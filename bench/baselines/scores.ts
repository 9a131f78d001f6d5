/** `OverlapScores` of the baseline designs: a Map from cache key to its row. */
import type { OverlapScores, TierCounts, WorkerOverlap } from '../../src/radix/types.js';

interface Row {
  workerId: string;
  dpRank: number;
  blocks: number;
  tiers: TierCounts;
}

/** Tier bits of a baseline entry mask: device 1, host 2, disk 4. */
export const TIER_BITS = { device: 1, host: 2, disk: 4 } as const;

/** Adds the best tier of `mask` to `tiers`. */
export function countBest(tiers: TierCounts, mask: number): void {
  if (mask & 1) tiers.device++;
  else if (mask & 2) tiers.host++;
  else tiers.disk++;
}

/** Scores keyed by `workerId` + `dpRank`. */
export class BaselineScores implements OverlapScores {
  readonly #rows = new Map<string, Row>();

  /** Sets a cache's score and tier counts (score ≥ 1). */
  set(workerId: string, dpRank: number, blocks: number, tiers: TierCounts): void {
    this.#rows.set(`${dpRank}:${workerId}`, { workerId, dpRank, blocks, tiers });
  }

  get size(): number {
    return this.#rows.size;
  }

  get(workerId: string, dpRank = 0): number {
    return this.#rows.get(`${dpRank}:${workerId}`)?.blocks ?? 0;
  }

  tiers(workerId: string, dpRank = 0): TierCounts {
    const row = this.#rows.get(`${dpRank}:${workerId}`);
    return row === undefined ? { device: 0, host: 0, disk: 0 } : { ...row.tiers };
  }

  *[Symbol.iterator](): Iterator<WorkerOverlap> {
    for (const r of this.#rows.values()) yield { workerId: r.workerId, dpRank: r.dpRank, blocks: r.blocks };
  }
}
