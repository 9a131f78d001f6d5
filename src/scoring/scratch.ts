import type { CandidateTable } from './plugins.js';
import type { WorkerTable } from './workers.js';

/**
 * Per-pick working arrays, sized to the slot capacity and reused by every pick (no per-pick
 * allocation). Doubles as the {@link CandidateTable} plugins see. A pick result copies what it
 * reports out of here (see pick-result.ts), so the next pick may overwrite everything.
 *
 * @internal
 */
export class Scratch implements CandidateTable {
  n = 0;
  promptBlocks = 0;
  promptTokens = 0;

  /**
   * Some candidate's overlap has host or disk blocks. Only then are `device`, `host` and `disk`
   * filled; otherwise they are stale and device = overlap, host = disk = 0 everywhere.
   */
  lowerTiers = false;
  slot = new Int32Array(0);
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
  busy = new Uint8Array(0);
  queue = new Float64Array(0);
  kvUsage = new Float64Array(0);
  /** Compacted non-busy candidates for a plugin picker. */
  pickIndex = new Int32Array(0);
  /** Candidates tied at the cheapest cost, in candidate order (written by the router's load pass). */
  ties = new Int32Array(0);
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
    const f64 = () => new Float64Array(capacity);
    this.slot = new Int32Array(capacity);
    this.overlapBlocks = f64();
    this.device = f64();
    this.host = f64();
    this.disk = f64();
    this.prefillBlocks = f64();
    this.decodeBlocks = f64();
    this.cost = f64();
    this.score = f64();
    this.probability = f64();
    this.busy = new Uint8Array(capacity);
    this.queue = f64();
    this.kvUsage = f64();
    this.pickIndex = new Int32Array(capacity);
    this.ties = new Int32Array(capacity);
    this.pickValues = f64();
    this.pickProbs = f64();
    this.part = f64();
    const seen = new Uint32Array(capacity);
    seen.set(this.seen);
    this.seen = seen;
    this.position = new Int32Array(capacity);
  }

  /** Starts a pick's candidate list. */
  begin(): void {
    this.n = 0;
    this.nextStamp();
  }

  /** Records each candidate's index by slot, for {@link Scratch.indexOf}. */
  indexSlots(): void {
    this.nextStamp();
    const stamp = this.stamp;
    const { slot: slots, seen, position } = this;
    for (let i = 0; i < this.n; i++) {
      const slot = slots[i]!;
      seen[slot] = stamp;
      position[slot] = i;
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
