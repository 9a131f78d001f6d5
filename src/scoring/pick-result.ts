/**
 * A successful pick as the caller sees it, and the compact copy of the pick's per-candidate figures
 * it keeps so `candidates` can be built later (most callers never read it).
 *
 * Cost: fresh memory costs about 0.2 µs per KB on the pick path (allocation and writing), so
 * the copy holds only what cannot be recomputed: per candidate the slot and busy flag, overlap,
 * prefill and decode blocks (32 bytes), tiers only when some overlap is not all device blocks, and
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

/** Field offsets (in units of n) of a snapshot. */
const OVERLAP = 1;
const PREFILL = 2;
const DECODE = 3;
const BASE_FIELDS = 4;

/** A pick's candidates, copied out of the scratch (32 bytes per candidate in the common case). @internal */
export interface CandidateSnapshot {
  n: number;
  /**
   * Field-major: `slot · 2 + busy`, overlap, prefill, decode; then device, host, disk when
   * `tiers`; then score, probability when `scores`. A plain array: young-generation memory is a
   * pointer bump, where an ArrayBuffer costs an off-heap allocation (measured ~1.7 vs ~2.4 µs
   * per 256-candidate copy).
   */
  data: number[];
  tiers: boolean;
  scores: boolean;
  /** The worker table's slot → id and slot → rank arrays at pick time (replaced, never edited). */
  slotWorker: readonly string[];
  slotRank: readonly number[];
}

/** Copies the scratch's candidates; `withScores` keeps plugin-made scores and probabilities. */
export function snapshotCandidates(
  s: Scratch,
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
  const d = new Array<number>(floats * n);
  for (let i = 0; i < n; i++) {
    d[i] = slot[i]! * 2 + busy[i]!;
    d[n + i] = overlapBlocks[i]!;
    d[2 * n + i] = prefillBlocks[i]!;
    d[3 * n + i] = decodeBlocks[i]!;
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
  return { n, data: d, tiers, scores: withScores, slotWorker, slotRank };
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
    const { n, data } = snapshot;
    const slot = data[chosen]! >>> 1;
    this.#snapshot = snapshot;
    this.#context = context;
    this.workerId = snapshot.slotWorker[slot]!;
    this.dpRank = snapshot.slotRank[slot]!;
    this.endpoint = endpoint;
    this.overlapBlocks = data[OVERLAP * n + chosen]!;
    this.promptBlocks = promptBlocks;
    this.cost = cost;
    this.unknownCandidates = unknown;
  }

  get candidates(): CandidateScore[] {
    if (this.#candidates !== undefined) return this.#candidates;
    const { n, data: d, tiers, scores, slotWorker, slotRank } = this.#snapshot;
    const p = this.#context.costParams;
    const cost = new Float64Array(n);
    const busy = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      busy[i] = d[i]! & 1;
      cost[i] = routingCost(p, d[PREFILL * n + i]!, d[DECODE * n + i]!);
    }
    let score: Float64Array;
    let probability: Float64Array;
    const at = (BASE_FIELDS + (tiers ? 3 : 0)) * n;
    if (scores) {
      score = Float64Array.from(d.slice(at, at + n));
      probability = Float64Array.from(d.slice(at + n, at + 2 * n));
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
      const slot = d[i]! >>> 1;
      const overlap = d[OVERLAP * n + i]!;
      const t: TierCounts = tiers
        ? { device: d[BASE_FIELDS * n + i]!, host: d[(BASE_FIELDS + 1) * n + i]!, disk: d[(BASE_FIELDS + 2) * n + i]! }
        : { device: overlap, host: 0, disk: 0 };
      out[i] = {
        workerId: slotWorker[slot]!,
        dpRank: slotRank[slot]!,
        overlapBlocks: overlap,
        tiers: t,
        prefillBlocks: d[PREFILL * n + i]!,
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
