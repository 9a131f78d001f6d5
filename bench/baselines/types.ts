/** What the harness needs of an index: the public `RadixIndex` surface, most of it optional. */
import type { ApplyResult, FindMatchesOptions, IndexStats, KvEvent, OverlapScores } from '../../src/radix/types.js';

/** An index under benchmark (ours, the reference, or a baseline design). */
export interface BenchIndex {
  apply(event: KvEvent): ApplyResult;
  findMatches(tokensHashes: BigUint64Array, options?: FindMatchesOptions): OverlapScores;
  findMatchesU32?(pairs: Uint32Array, count: number, options?: FindMatchesOptions): OverlapScores;
  removeWorker(workerId: string, dpRank?: number): void;
  stats?(): IndexStats;
  snapshot?(): Uint8Array;
}

/** How to make one kind of index. */
export interface IndexKind {
  /** Result column: `ours`, `reference`, `naive` or `inverted`. */
  impl: 'ours' | 'reference' | 'naive' | 'inverted';
  /** Human name, e.g. `RadixIndex`. */
  label: string;
  create(): BenchIndex;
  /** An index with room reserved up front (`RadixIndex`'s `initialBlocks` / `initialNodes`), when the kind has such options. */
  createSized?(initialBlocks: number, initialNodes: number): BenchIndex;
  /** Rebuilds from `snapshot()` bytes, when the kind supports snapshots. */
  restore?(bytes: Uint8Array): BenchIndex;
  /** Query through `findMatchesU32` (the zero-BigInt path) instead of `findMatches`. */
  useU32: boolean;
}
