import type { CandidateTable } from './plugins.js';
import type { WorkerTable } from './workers.js';

/** Fields in {@link Scratch.block}: rank, overlap, device, host, disk, prefill, decode, cost, score, probability, busy. @internal */
export const SNAPSHOT_FIELDS = 11;

/**
 * Per-pick working arrays, sized to the slot capacity and reused by every pick (no per-pick
 * allocation). Doubles as the {@link CandidateTable} plugins see.
 *
 * @internal
 */
export class Scratch implements CandidateTable {
  n = 0;
  promptBlocks = 0;
  promptTokens = 0;

  slot = new Int32Array(0);
  /**
   * The per-candidate fields a pick result reports, field-major in one buffer (field k at
   * `k · capacity`, then room for the slots), handed to the result whole. Views below.
   */
  block = new Float64Array(0);
  /** Slots the arrays other than the block's have room for. */
  capacity = 0;
  /** Rows per field in {@link Scratch.block}. */
  stride = 0;
  rank = new Float64Array(0);
  overlapBlocks = new Float64Array(0);
  device = new Float64Array(0);
  host = new Float64Array(0);
  disk = new Float64Array(0);
  prefillBlocks = new Float64Array(0);
  decodeBlocks = new Float64Array(0);
  cost = new Float64Array(0);
  score = new Float64Array(0);
  probability = new Float64Array(0);
  /** 1 = above a busy threshold. */
  busy = new Float64Array(0);
  queue = new Float64Array(0);
  kvUsage = new Float64Array(0);
  /** Compacted non-busy candidates for the picker. */
  pickIndex = new Int32Array(0);
  pickValues = new Float64Array(0);
  pickProbs = new Float64Array(0);
  /** One scorer's output. */
  part = new Float64Array(0);
  /** Slot → stamp of the pick that listed it (dedupes candidates). */
  seen = new Uint32Array(0);
  /** Slot → candidate index, valid where `seen[slot]` equals the stamp set by {@link Scratch.indexSlots}. */
  position = new Int32Array(0);
  private stamp = 0;

  constructor(private readonly workers: WorkerTable) {}

  /** Grows every array to `capacity` entries. */
  ensure(capacity: number): void {
    if (capacity <= this.slot.length) return;
    this.slot = new Int32Array(capacity);
    this.capacity = capacity;
    this.useBlock(new Float64Array(capacity * (SNAPSHOT_FIELDS + 1)), capacity);
    this.queue = new Float64Array(capacity);
    this.kvUsage = new Float64Array(capacity);
    this.pickIndex = new Int32Array(capacity);
    this.pickValues = new Float64Array(capacity);
    this.pickProbs = new Float64Array(capacity);
    this.part = new Float64Array(capacity);
    const seen = new Uint32Array(capacity);
    seen.set(this.seen);
    this.seen = seen;
    this.position = new Int32Array(capacity);
  }

  /**
   * Points the reported fields at `block` (field k at `k · stride`, `stride` ≥ the pick's
   * candidates; room for one more field, the slots, at the end). A pick result keeps the block it
   * was computed in, so the next pick writes into a fresh one (sized to its candidates) instead of
   * the result copying this one.
   */
  useBlock(block: Float64Array<ArrayBuffer>, stride: number): void {
    this.block = block;
    this.stride = stride;
    const field = (k: number) => block.subarray(k * stride, (k + 1) * stride);
    this.rank = field(0);
    this.overlapBlocks = field(1);
    this.device = field(2);
    this.host = field(3);
    this.disk = field(4);
    this.prefillBlocks = field(5);
    this.decodeBlocks = field(6);
    this.cost = field(7);
    this.score = field(8);
    this.probability = field(9);
    this.busy = field(10);
  }

  /** Starts a pick's candidate list. */
  begin(): void {
    this.n = 0;
    this.nextStamp();
  }

  /** Records each candidate's index by slot, for {@link Scratch.indexOf}. */
  indexSlots(): void {
    this.nextStamp();
    for (let i = 0; i < this.n; i++) {
      const slot = this.slot[i]!;
      this.seen[slot] = this.stamp;
      this.position[slot] = i;
    }
  }

  /** Candidate index of a slot after {@link Scratch.indexSlots}, or -1 when it is not a candidate. */
  indexOf(slot: number): number {
    return slot >= 0 && this.seen[slot] === this.stamp ? this.position[slot]! : -1;
  }

  private nextStamp(): void {
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
  }

  /** Adds a slot unless already listed in this pick. */
  push(slot: number): void {
    if (this.seen[slot] === this.stamp) return;
    this.seen[slot] = this.stamp;
    this.slot[this.n++] = slot;
  }

  workerId(i: number): string {
    return this.workers.slotWorker[this.slot[i]!]!;
  }

  dpRank(i: number): number {
    return this.workers.slotRank[this.slot[i]!]!;
  }
}
