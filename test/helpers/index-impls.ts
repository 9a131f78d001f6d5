/**
 * The index implementations every radix test runs against, and small event builders.
 *
 * Every radix test runs against both the reference (test/reference) and the optimized RadixIndex.
 */
import { RadixIndex } from '../../src/radix/index.js';
import type {
  ApplyResult,
  FindMatchesOptions,
  IndexStats,
  KvEvent,
  OverlapScores,
  Tier,
  WorkerKey,
} from '../../src/radix/types.js';
import { ReferenceIndex } from '../reference/index.js';

/** What the tests use of an index. */
export interface IndexUnderTest {
  apply(event: KvEvent): ApplyResult;
  removeWorker(workerId: string, dpRank?: number): void;
  findMatches(tokensHashes: BigUint64Array | readonly bigint[], options?: FindMatchesOptions): OverlapScores;
  findMatchesU32?(pairs: Uint32Array, count: number, options?: FindMatchesOptions): OverlapScores;
  blockCount(workerId: string, dpRank?: number): number;
  workers(): WorkerKey[];
  stats(): IndexStats;
  snapshot(): Uint8Array;
}

/** One implementation: how to make an empty one and how to restore one. */
export interface Implementation {
  name: string;
  create(): IndexUnderTest;
  restore(bytes: Uint8Array): IndexUnderTest;
}

/** The reference index (test/reference): plain Maps, obviously correct. */
export const reference: Implementation = {
  name: 'reference',
  create: () => new ReferenceIndex(),
  restore: (bytes) => ReferenceIndex.restore(bytes),
};

/** The optimized index (src/radix). */
export const optimized: Implementation = {
  name: 'RadixIndex',
  create: () => new RadixIndex(),
  restore: (bytes) => RadixIndex.restore(bytes),
};

/** Every implementation, as `describe.each` rows. */
export const implementations: Array<[string, Implementation]> = [
  ['reference', reference],
  ['RadixIndex', optimized],
];

/** Options shared by the builders. */
export interface EventOptions {
  dpRank?: number;
  tier?: Tier;
  parentHash?: bigint | null;
}

/** A `stored` event of `[blockHash, tokensHash]` pairs. */
export function stored(workerId: string, chain: ReadonlyArray<readonly [bigint, bigint]>, opts: EventOptions = {}): KvEvent {
  const event: KvEvent = {
    type: 'stored',
    workerId,
    blocks: chain.map(([blockHash, tokensHash]) => ({ blockHash, tokensHash })),
  };
  if (opts.parentHash !== undefined) event.parentHash = opts.parentHash;
  if (opts.dpRank !== undefined) event.dpRank = opts.dpRank;
  if (opts.tier !== undefined) event.tier = opts.tier;
  return event;
}

/** A `removed` event. */
export function removed(workerId: string, blockHashes: readonly bigint[], opts: EventOptions = {}): KvEvent {
  const event: KvEvent = { type: 'removed', workerId, blockHashes: [...blockHashes] };
  if (opts.dpRank !== undefined) event.dpRank = opts.dpRank;
  if (opts.tier !== undefined) event.tier = opts.tier;
  return event;
}

/** A `cleared` event. */
export function cleared(workerId: string, opts: EventOptions = {}): KvEvent {
  const event: KvEvent = { type: 'cleared', workerId };
  if (opts.dpRank !== undefined) event.dpRank = opts.dpRank;
  if (opts.tier !== undefined) event.tier = opts.tier;
  return event;
}

/** Scores as a sorted plain list (iteration order is unspecified). */
export function scoreList(scores: OverlapScores): Array<{ workerId: string; dpRank: number; blocks: number }> {
  return [...scores]
    .map(({ workerId, dpRank, blocks }) => ({ workerId, dpRank, blocks }))
    .sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : a.dpRank - b.dpRank));
}

/** Known caches, sorted. */
export function workerList(index: IndexUnderTest): WorkerKey[] {
  return index
    .workers()
    .map(({ workerId, dpRank }) => ({ workerId, dpRank }))
    .sort((a, b) => (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : a.dpRank - b.dpRank));
}

/**
 * Everything observable without changing the index: known caches, their block counts, entries,
 * and for each probe query every cache's score and tier counts with and without early exit.
 */
export function observe(index: IndexUnderTest, probes: ReadonlyArray<readonly bigint[]>): unknown {
  const workers = workerList(index);
  return {
    workers,
    blockCounts: workers.map((w) => index.blockCount(w.workerId, w.dpRank)),
    entries: index.stats().entries,
    probes: probes.map((q) =>
      [false, true].map((earlyExit) => {
        const scores = index.findMatches(q, { earlyExit });
        return {
          size: scores.size,
          list: scoreList(scores),
          tiers: workers.map((w) => scores.tiers(w.workerId, w.dpRank)),
        };
      }),
    ),
  };
}
