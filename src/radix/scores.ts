/**
 * The {@link OverlapScores} a `findMatches` call returns: a few flat rows, one per matched cache.
 */
import type { OverlapScores, TierCounts, WorkerOverlap } from './types.js';

/**
 * Rows of one query: cache key, overlap and its blocks by best tier.
 *
 * `workerIds` and `rows` (5 numbers per row: dpRank, blocks, device, host, disk) are read directly
 * by src/scoring's router (it skips the generator on its hot path): keep that layout, or update
 * the router's reader in the same change.
 * @internal
 */
export class MatchScores implements OverlapScores {
  /** Row of each cache, built on the first `get`. */
  private byKey: Map<string, Map<number, number>> | null = null;

  /** @internal */
  constructor(
    private readonly workerIds: readonly string[],
    /** Per row: dpRank, blocks, device, host, disk. */
    private readonly rows: readonly number[],
  ) {}

  /** Number of caches that matched at least one block. */
  get size(): number {
    return this.workerIds.length;
  }

  /** Overlap of one cache in blocks; 0 when it matched nothing or is unknown. */
  get(workerId: string, dpRank = 0): number {
    const row = this.rowOf(workerId, dpRank);
    return row < 0 ? 0 : this.rows[row * 5 + 1]!;
  }

  /** The cache's matched blocks by best tier; all zero when it matched nothing. */
  tiers(workerId: string, dpRank = 0): TierCounts {
    const row = this.rowOf(workerId, dpRank);
    if (row < 0) return { device: 0, host: 0, disk: 0 };
    const r = this.rows;
    return { device: r[row * 5 + 2]!, host: r[row * 5 + 3]!, disk: r[row * 5 + 4]! };
  }

  *[Symbol.iterator](): Iterator<WorkerOverlap> {
    for (let i = 0; i < this.workerIds.length; i++) {
      yield { workerId: this.workerIds[i]!, dpRank: this.rows[i * 5]!, blocks: this.rows[i * 5 + 1]! };
    }
  }

  private rowOf(workerId: string, dpRank: number): number {
    let byKey = this.byKey;
    if (byKey === null) {
      byKey = this.byKey = new Map();
      for (let i = 0; i < this.workerIds.length; i++) {
        let ranks = byKey.get(this.workerIds[i]!);
        if (ranks === undefined) byKey.set(this.workerIds[i]!, (ranks = new Map()));
        ranks.set(this.rows[i * 5]!, i);
      }
    }
    return byKey.get(workerId)?.get(dpRank) ?? -1;
  }
}
