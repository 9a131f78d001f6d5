/**
 * The index's public vocabulary: normalized KV events, apply results and overlap scores.
 *
 * Every decoder in `src/events` produces {@link KvEvent}s; the index, the router and the
 * test reference all consume exactly this shape.
 */

/** Where a block lives: GPU memory, CPU memory, or disk. */
export type Tier = 'device' | 'host' | 'disk';

/** All tiers, best first (a block held in several tiers counts as its best). */
export const TIERS: readonly Tier[] = ['device', 'host', 'disk'];

/** One block of a `stored` event. */
export interface StoredBlock {
  /** The engine's own id for the block (opaque u64; Dynamo's ExternalSequenceBlockHash). */
  blockHash: bigint;
  /** XXH3-64 of the block's tokens (u64; Dynamo's LocalBlockHash). The index walks by it. */
  tokensHash: bigint;
}

/** Fields every event carries. */
export interface KvEventBase {
  /** The worker: an endpoint `ip:port` or a Dynamo instance id written in decimal. */
  workerId: string;
  /** Data-parallel rank of the worker's cache; defaults to 0. */
  dpRank?: number;
  /** Per-worker event counter, used by ingestion for gap detection; ignored by the index. */
  eventId?: number;
  /** Tier the event applies to; defaults to `'device'`. Ignored by `cleared`. */
  tier?: Tier;
}

/** Blocks stored: a chain, each block the child of the previous, the first the child of `parentHash`. */
export interface StoredEvent extends KvEventBase {
  type: 'stored';
  /** Block hash of the parent of the first block, which this worker must hold; absent or null for a root chain. */
  parentHash?: bigint | null;
  blocks: StoredBlock[];
}

/** Blocks removed from one tier. */
export interface RemovedEvent extends KvEventBase {
  type: 'removed';
  blockHashes: bigint[];
}

/** Every block of `(workerId, dpRank)` dropped, in every tier; the worker stays known. */
export interface ClearedEvent extends KvEventBase {
  type: 'cleared';
}

/** A normalized KV event, whatever engine or transport it came from. */
export type KvEvent = StoredEvent | RemovedEvent | ClearedEvent;

/**
 * Why an event was (wholly or partly) not applied.
 *
 * - `PARENT_NOT_FOUND`: a stored event names a parent the worker does not hold; nothing applied.
 * - `BLOCK_NOT_FOUND`: a removed event names blocks the worker does not hold in that tier; the rest applied.
 * - `INVALID_SEQUENCE`: a stored chain is not a chain (a block equal to its parent, a block hash that
 *   already names a different block of this worker); nothing applied.
 */
export type ApplyErrorCode = 'PARENT_NOT_FOUND' | 'BLOCK_NOT_FOUND' | 'INVALID_SEQUENCE';

/** What `apply` did. */
export interface ApplyResult {
  /** (block, tier) entries added (stored), dropped (removed) or dropped (cleared). */
  applied: number;
  /** Set when something in the event was rejected; see {@link ApplyErrorCode}. */
  error?: ApplyErrorCode;
}

/** One cache: a worker and one of its data-parallel ranks. */
export interface WorkerKey {
  workerId: string;
  dpRank: number;
}

/** A worker's overlap with a prompt, in blocks. */
export interface WorkerOverlap extends WorkerKey {
  blocks: number;
}

/** Blocks of the matched run by the best tier each is held in. */
export interface TierCounts {
  device: number;
  host: number;
  disk: number;
}

/** Options of `findMatches`. */
export interface FindMatchesOptions {
  /**
   * Stop walking once a single worker still matches; that worker's score is then the depth
   * reached (a lower bound of its overlap). Default `false`.
   */
  earlyExit?: boolean;
}

/** Per-worker overlap of one prompt. Iterates the workers that matched at least one block. */
export interface OverlapScores extends Iterable<WorkerOverlap> {
  /** Number of workers that matched at least one block. */
  readonly size: number;
  /** Overlap in blocks; 0 when the worker matched nothing or is unknown. */
  get(workerId: string, dpRank?: number): number;
  /** Blocks of the worker's matched run by best tier; all zero when it matched nothing. */
  tiers(workerId: string, dpRank?: number): TierCounts;
}

/** Size of an index. */
export interface IndexStats {
  /** Tree nodes in use (a node holds a run of blocks with the same holders). */
  nodes: number;
  /** (worker, block) entries held, any tier. */
  entries: number;
  /** Bytes of typed-array storage reserved by the index. */
  bytes: number;
}
