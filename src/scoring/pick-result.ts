/**
 * A successful pick as the caller sees it, and the compact copy of the pick's per-candidate figures
 * it keeps so `candidates` can be built later (most callers never read it).
 *
 * Cost: fresh memory costs about 0.2 µs per KB on the pick path (allocation and first touch), so
 * the copy holds only what cannot be recomputed: per candidate the slot and busy flag, overlap,
 * prefill and decode blocks (24 bytes), tiers only when some overlap is not all device blocks, and
 * scores and probabilities only when a plugin produced them. Cost, scores and the cost policy's
 * probabilities are recomputed with the very functions the pick used, so they are identical.
 *
 * @internal
 */
import type { TierCounts } from '../radix/types.js';
import { routingCost, type CostParams } from './cost.js';
import { costProbabilities } from './pickers.js';
import { costScores } from './scorers.js';
import type { Scratch } from './scratch.js';
import type { CandidateScore, CandidateSpec, PickSuccess } from './types.js';

/** What a result needs of its router to rebuild figures (constant per router). @internal */
export interface PickContext {
  readonly costParams: CostParams;
  /** Cost-policy temperature. */
  readonly temperature: number;
}

/**
 * Hands out regions of a shared 64 KB buffer for typed-array views: a small view object per pick
 * instead of an off-heap allocation (a fresh typed array costs ~1.5 µs before its first byte;
 * 64 KB stays below malloc's mmap threshold, so dropped buffers' memory comes back warm). A full
 * buffer is dropped (live views keep it alive) and a new one started.
 */
export class Slab {
  /** The buffer the last {@link Slab.take} offset is in. */
  buffer = new ArrayBuffer(0);
  private used = 0;

  /** Reserves `bytes` (a multiple of 8) and returns their offset in {@link Slab.buffer}. */
  take(bytes: number): number {
    if (this.used + bytes > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(1 << 16, bytes));
      this.used = 0;
    }
    const at = this.used;
    this.used += bytes;
    return at;
  }
}

/** Field offsets (in units of n) of a snapshot's integer and float parts. */
const OVERLAP = 1;
const DECODE = 1;
const BASE_FIELDS = 2;

/** A pick's candidates, copied out of the scratch (24 bytes per candidate in the common case). @internal */
export interface CandidateSnapshot {
  n: number;
  /** Field-major: `slot · 2 + busy`, overlap blocks. */
  ints: Int32Array;
  /**
   * Field-major: prefill, decode; then device, host, disk when `tiers`; then score, probability
   * when `scores`.
   */
  data: Float64Array;
  tiers: boolean;
  scores: boolean;
  /** The worker table's slot → id and slot → rank arrays at pick time (replaced, never edited). */
  slotWorker: readonly string[];
  slotRank: readonly number[];
}

/** Copies the scratch's candidates; `withScores` keeps plugin-made scores and probabilities. */
export function snapshotCandidates(
  s: Scratch,
  slab: Slab,
  slotWorker: readonly string[],
  slotRank: readonly number[],
  withScores: boolean,
): CandidateSnapshot {
  const n = s.n;
  const { slot, busy, overlapBlocks, prefillBlocks, decodeBlocks, device, host, disk } = s;
  let tiers = false;
  // Without host or disk blocks every overlap block is a device block: nothing to keep.
  if (s.lowerTiers) {
    for (let i = 0; i < n; i++) {
      if (device[i] !== overlapBlocks[i] || host[i] !== 0 || disk[i] !== 0) {
        tiers = true;
        break;
      }
    }
  }
  const floats = BASE_FIELDS + (tiers ? 3 : 0) + (withScores ? 2 : 0);
  const intBytes = (2 * 4 * n + 7) & ~7;
  const offset = slab.take(intBytes + floats * 8 * n);
  const ints = new Int32Array(slab.buffer, offset, 2 * n);
  const d = new Float64Array(slab.buffer, offset + intBytes, floats * n);
  for (let i = 0; i < n; i++) {
    ints[i] = slot[i]! * 2 + busy[i]!;
    ints[n + i] = overlapBlocks[i]!;
    d[i] = prefillBlocks[i]!;
    d[n + i] = decodeBlocks[i]!;
  }
  let at = BASE_FIELDS * n;
  if (tiers) {
    for (let i = 0; i < n; i++) {
      d[at + i] = device[i]!;
      d[at + n + i] = host[i]!;
      d[at + 2 * n + i] = disk[i]!;
    }
    at += 3 * n;
  }
  if (withScores) {
    const { score, probability } = s;
    for (let i = 0; i < n; i++) {
      d[at + i] = score[i]!;
      d[at + n + i] = probability[i]!;
    }
  }
  return { n, ints, data: d, tiers, scores: withScores, slotWorker, slotRank };
}

/** A successful pick; `candidates` objects are built on first access. @internal */
export class Picked implements PickSuccess {
  readonly ok = true;
  readonly workerId: string;
  readonly dpRank: number;
  readonly endpoint: string;
  readonly overlapBlocks: number;
  readonly promptBlocks: number;
  readonly cost: number;
  readonly unknownCandidates: CandidateSpec[];
  #snapshot: CandidateSnapshot;
  #context: PickContext;
  #candidates: CandidateScore[] | undefined;

  constructor(
    snapshot: CandidateSnapshot,
    context: PickContext,
    chosen: number,
    endpoint: string,
    cost: number,
    promptBlocks: number,
    unknown: CandidateSpec[],
  ) {
    const { n, ints } = snapshot;
    const slot = ints[chosen]! >>> 1;
    this.#snapshot = snapshot;
    this.#context = context;
    this.workerId = snapshot.slotWorker[slot]!;
    this.dpRank = snapshot.slotRank[slot]!;
    this.endpoint = endpoint;
    this.overlapBlocks = ints[OVERLAP * n + chosen]!;
    this.promptBlocks = promptBlocks;
    this.cost = cost;
    this.unknownCandidates = unknown;
  }

  get candidates(): CandidateScore[] {
    if (this.#candidates !== undefined) return this.#candidates;
    const { n, ints, data: d, tiers, scores, slotWorker, slotRank } = this.#snapshot;
    const p = this.#context.costParams;
    const cost = new Float64Array(n);
    const busy = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      busy[i] = ints[i]! & 1;
      cost[i] = routingCost(p, d[i]!, d[DECODE * n + i]!);
    }
    let score: Float64Array;
    let probability: Float64Array;
    const at = (BASE_FIELDS + (tiers ? 3 : 0)) * n;
    if (scores) {
      score = d.subarray(at, at + n);
      probability = d.subarray(at + n, at + 2 * n);
    } else {
      // The cost policy: the same functions as the pick, on the same numbers.
      score = new Float64Array(n);
      costScores(cost, n, score);
      for (let i = 0; i < n; i++) if (busy[i] === 1) score[i] = 0;
      probability = new Float64Array(n);
      costProbabilities(cost, busy, n, this.#context.temperature, probability);
    }
    const out: CandidateScore[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const slot = ints[i]! >>> 1;
      const overlap = ints[OVERLAP * n + i]!;
      const t: TierCounts = tiers
        ? { device: d[BASE_FIELDS * n + i]!, host: d[(BASE_FIELDS + 1) * n + i]!, disk: d[(BASE_FIELDS + 2) * n + i]! }
        : { device: overlap, host: 0, disk: 0 };
      out[i] = {
        workerId: slotWorker[slot]!,
        dpRank: slotRank[slot]!,
        overlapBlocks: overlap,
        tiers: t,
        prefillBlocks: d[i]!,
        decodeBlocks: d[DECODE * n + i]!,
        cost: cost[i]!,
        score: score[i]!,
        probability: probability[i]!,
        busy: busy[i] === 1,
      };
    }
    this.#candidates = out;
    return out;
  }

  /** Plain-object form (JSON.stringify includes the candidates). */
  toJSON(): PickSuccess {
    return {
      ok: true,
      workerId: this.workerId,
      dpRank: this.dpRank,
      endpoint: this.endpoint,
      overlapBlocks: this.overlapBlocks,
      promptBlocks: this.promptBlocks,
      cost: this.cost,
      candidates: this.candidates,
      unknownCandidates: this.unknownCandidates,
    };
  }
}
