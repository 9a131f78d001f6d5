/**
 * The {@link OverlapScores} a `findMatches` call returns: a few flat rows, one per matched cache.
 */
import type { OverlapScores, TierCounts, WorkerOverlap } from './types.js';

/** Numbers per row of {@link MatchScores.rows}. @internal */
export const ROW_STRIDE = 5;

/**
 * Rows of one query: cache key, overlap and its blocks by best tier.
 *
 * Layout (the official fast-consumer view, all `@internal`):
 * - {@link MatchScores.rowCount} rows, one per cache with an overlap ≥ 1, in no particular order;
 * - row `i`'s worker id is {@link MatchScores.rowWorkerId | rowWorkerId(i)} (= `workerIds[i]`);
 * - {@link MatchScores.rows} holds {@link ROW_STRIDE} numbers per row, at `i * ROW_STRIDE`:
 *   `dpRank, blocks, device, host, disk` (`blocks` is the overlap; `device + host + disk === blocks`,
 *   each matched block counted once, in its best tier).
 *
 * src/scoring's router reads `workerIds` and `rows` by these names: keep them, or update its
 * reader (`flatRows`) in the same change. A result is a value: later calls and events never change it,
 * and consumers must not write to the arrays.
 * @internal
 */
export class MatchScores implements OverlapScores {
  /** Row of each cache, built on the first `get`. */
  private byKey: Map<string, Map<number, number>> | null = null;

  /** @internal */
  constructor(
    /** Worker id per row. @internal */
    readonly workerIds: readonly string[],
    /** {@link ROW_STRIDE} numbers per row: dpRank, blocks, device, host, disk. @internal */
    readonly rows: readonly number[],
  ) {}

  /** Number of caches that matched at least one block. */
  get size(): number {
    return this.workerIds.length;
  }

  /** Number of rows (= {@link MatchScores.size}). @internal */
  get rowCount(): number {
    return this.workerIds.length;
  }

  /** Worker id of row `i` (0 ≤ i < {@link MatchScores.rowCount}). @internal */
  rowWorkerId(i: number): string {
    return this.workerIds[i]!;
  }

  /** Overlap of one cache in blocks; 0 when it matched nothing or is unknown. */
  get(workerId: string, dpRank = 0): number {
    const row = this.rowOf(workerId, dpRank);
    return row < 0 ? 0 : this.rows[row * ROW_STRIDE + 1]!;
  }

  /** The cache's matched blocks by best tier; all zero when it matched nothing. */
  tiers(workerId: string, dpRank = 0): TierCounts {
    const row = this.rowOf(workerId, dpRank);
    if (row < 0) return { device: 0, host: 0, disk: 0 };
    const r = this.rows;
    const o = row * ROW_STRIDE;
    return { device: r[o + 2]!, host: r[o + 3]!, disk: r[o + 4]! };
  }

  *[Symbol.iterator](): Iterator<WorkerOverlap> {
    for (let i = 0; i < this.workerIds.length; i++) {
      yield { workerId: this.workerIds[i]!, dpRank: this.rows[i * ROW_STRIDE]!, blocks: this.rows[i * ROW_STRIDE + 1]! };
    }
  }

  private rowOf(workerId: string, dpRank: number): number {
    let byKey = this.byKey;
    if (byKey === null) {
      byKey = this.byKey = new Map();
      for (let i = 0; i < this.workerIds.length; i++) {
        let ranks = byKey.get(this.workerIds[i]!);
        if (ranks === undefined) byKey.set(this.workerIds[i]!, (ranks = new Map()));
        ranks.set(this.rows[i * ROW_STRIDE]!, i);
      }
    }
    return byKey.get(workerId)?.get(dpRank) ?? -1;
  }
}
