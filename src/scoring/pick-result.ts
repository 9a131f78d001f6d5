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
/** Fields per candidate of a snapshot without tiers or scores. @internal */
export const SNAPSHOT_FIELDS = BASE_FIELDS;

/**
 * Hands out snapshot storage: Float64Array views carved out of a shared 64 KB buffer, so a pick
 * allocates a small view object instead of its own memory. A fresh `new Array(n)` per pick
 * measured ~0.35 µs slower per 256-candidate pick (2.05× vs 1.98× findMatches), a fresh
 * Float64Array slower still, and a plain array past 64 KB lands in V8's large-object space at
 * ~0.8 ms per allocation. A full buffer is dropped (live views keep it alive) and a new one
 * started; a request larger than 64 KB gets a buffer of its own. The price: a kept result keeps
 * its buffer alive until its candidates are built (8 picks' worth at 256 candidates), after which
 * it drops the view.
 * @internal
 */
export class Slab {
  private buffer = new ArrayBuffer(0);
  private used = 0;

  /** A view of `length` doubles no other call of this slab hands out. */
  floats(length: number): Float64Array {
    const bytes = length * 8;
    if (this.used + bytes > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(1 << 16, bytes));
      this.used = 0;
    }
    const view = new Float64Array(this.buffer, this.used, length);
    this.used += bytes;
    return view;
  }
}

/** A pick's candidates, copied out of the scratch (32 bytes per candidate in the common case). @internal */
export interface CandidateSnapshot {
  n: number;
  /**
   * Field-major: `slot · 2 + busy`, overlap, prefill, decode; then device, host, disk when
   * `tiers`; then score, probability when `scores` (a {@link Slab} view).
   */
  data: Float64Array;
  tiers: boolean;
  scores: boolean;
  /** The worker table's slot → id and slot → rank arrays at pick time (replaced, never edited). */
  slotWorker: readonly string[];
  slotRank: readonly number[];
}

/**
 * A snapshot over `data` already laid out as the base fields (`slot · 2 + busy`, overlap, prefill,
 * decode; no tiers, no scores), written by the router's load pass itself.
 */
export function baseSnapshot(n: number, data: Float64Array, slotWorker: readonly string[], slotRank: readonly number[]): CandidateSnapshot {
  return { n, data, tiers: false, scores: false, slotWorker, slotRank };
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
  const d = slab.floats(floats * n);
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
  /** Dropped once the candidates are built (it may share a 64 KB block with other picks). */
  #snapshot: CandidateSnapshot | undefined;
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
    const { n, data: d, tiers, scores, slotWorker, slotRank } = this.#snapshot!;
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
    this.#snapshot = undefined;
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
