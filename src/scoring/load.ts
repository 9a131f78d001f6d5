import type { LoadMetrics } from '../events/types.js';
import { PairCounter } from './pair-counter.js';

/**
 * Load per cache slot (one slot = one `(workerId, dpRank)`): the metrics the worker pushed, and
 * the load the router predicts from the requests it routed (DESIGN §6 "Predicted load").
 *
 * @internal
 */

const METRIC_FIELDS: ReadonlyArray<keyof LoadMetrics> = [
  'requestActiveSlots',
  'requestTotalSlots',
  'numRequestsWaiting',
  'kvActiveBlocks',
  'kvTotalBlocks',
  'gpuCacheUsagePerc',
  'gpuPrefixCacheHitRate',
  'dataParallelRank',
  'activeDecodeBlocks',
  'activePrefillTokens',
];
const FRACTIONS = new Set<keyof LoadMetrics>(['gpuCacheUsagePerc', 'gpuPrefixCacheHitRate']);

/**
 * Checks pushed metrics: an object whose known fields are absent/undefined, or non-negative finite
 * numbers (counts: integers; `gpuCacheUsagePerc`, `gpuPrefixCacheHitRate`: in [0, 1]).
 * Unknown fields are ignored. Throws TypeError / RangeError naming the field.
 */
export function validateLoadMetrics(metrics: unknown): LoadMetrics {
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) {
    throw new TypeError(`load metrics: expected an object, got ${describe(metrics)}`);
  }
  const m = metrics as Record<string, unknown>;
  for (const field of METRIC_FIELDS) {
    const v = m[field];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw new TypeError(`load metrics: ${field} must be a number, got ${describe(v)}`);
    if (FRACTIONS.has(field)) {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`load metrics: ${field} must be in [0, 1], got ${v}`);
    } else if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`load metrics: ${field} must be a non-negative integer, got ${v}`);
    }
  }
  return m as LoadMetrics;
}

/** Short description of a value for error messages. @internal */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

interface TrackedRequest {
  slot: number;
  /** Block keys as (lo, hi) pairs, each counted once in the slot's counter. */
  keys: Uint32Array;
  /** Blocks one key stands for (1 for token blocks; text blocks count as tokens-per-text-block / B). */
  blockWeight: number;
  /** Uncached prefill tokens still to compute; 0 once prefill is complete. */
  prefillTokens: number;
  expiresAt: number;
  /** Generation of the slot when added; a removed worker's requests become inert. */
  generation: number;
}

/** Outcome of adding a request to predicted load. */
export type TrackOutcome = 'added' | 'duplicate';

/** Pushed metrics and predicted load for every slot. @internal */
export class LoadTracker {
  /** Pushed values per slot (NaN = not reported). */
  pushedPrefillTokens = new Float64Array(0);
  pushedActiveBlocks = new Float64Array(0);
  pushedWaiting = new Float64Array(0);
  pushedUsage = new Float64Array(0);
  /** Last reported KV capacity (kept when metrics go stale: capacity does not change with load). */
  kvTotalBlocks = new Float64Array(0);
  /** When metrics were last pushed (ms, router clock); -Infinity = never. */
  pushedAt = new Float64Array(0);

  /** Predicted load per slot. */
  predictedPrefillTokens = new Float64Array(0);
  predictedBlocks = new Float64Array(0);
  predictedRequests = new Int32Array(0);
  predictedPrefilling = new Int32Array(0);
  private counters: Array<PairCounter | undefined> = [];
  private generations = new Uint32Array(0);

  private readonly requests = new Map<string, TrackedRequest>();

  constructor(
    private readonly stalenessMs: number,
    private readonly expiryMs: number,
  ) {}

  /** Requests tracked now. */
  get activeRequests(): number {
    return this.requests.size;
  }

  /** Makes room for slots `[0, n)`. */
  ensureSlots(n: number): void {
    const cap = this.pushedAt.length;
    if (n <= cap) return;
    let next = Math.max(8, cap);
    while (next < n) next *= 2;
    const growF = (a: Float64Array, fill: number) => {
      const b = new Float64Array(next).fill(fill);
      b.set(a);
      return b;
    };
    const growI = (a: Int32Array) => {
      const b = new Int32Array(next);
      b.set(a);
      return b;
    };
    this.pushedPrefillTokens = growF(this.pushedPrefillTokens, NaN);
    this.pushedActiveBlocks = growF(this.pushedActiveBlocks, NaN);
    this.pushedWaiting = growF(this.pushedWaiting, NaN);
    this.pushedUsage = growF(this.pushedUsage, NaN);
    this.kvTotalBlocks = growF(this.kvTotalBlocks, NaN);
    this.pushedAt = growF(this.pushedAt, -Infinity);
    this.predictedPrefillTokens = growF(this.predictedPrefillTokens, 0);
    this.predictedBlocks = growF(this.predictedBlocks, 0);
    this.predictedRequests = growI(this.predictedRequests);
    this.predictedPrefilling = growI(this.predictedPrefilling);
    const gen = new Uint32Array(next);
    gen.set(this.generations);
    this.generations = gen;
  }

  /** Forgets everything about a slot (worker removed or slot reused); its tracked requests become inert. */
  resetSlot(slot: number): void {
    this.pushedPrefillTokens[slot] = NaN;
    this.pushedActiveBlocks[slot] = NaN;
    this.pushedWaiting[slot] = NaN;
    this.pushedUsage[slot] = NaN;
    this.kvTotalBlocks[slot] = NaN;
    this.pushedAt[slot] = -Infinity;
    this.predictedPrefillTokens[slot] = 0;
    this.predictedBlocks[slot] = 0;
    this.predictedRequests[slot] = 0;
    this.predictedPrefilling[slot] = 0;
    this.counters[slot] = undefined;
    this.generations[slot] = this.generations[slot]! + 1;
  }

  /** Records validated pushed metrics for a slot at time `now`. */
  setPushed(slot: number, m: LoadMetrics, now: number): void {
    this.pushedPrefillTokens[slot] = m.activePrefillTokens ?? NaN;
    this.pushedActiveBlocks[slot] = m.activeDecodeBlocks ?? m.kvActiveBlocks ?? NaN;
    this.pushedWaiting[slot] = m.numRequestsWaiting ?? NaN;
    let usage = m.gpuCacheUsagePerc ?? NaN;
    if (Number.isNaN(usage) && m.kvActiveBlocks !== undefined && m.kvTotalBlocks !== undefined && m.kvTotalBlocks > 0) {
      usage = Math.min(1, m.kvActiveBlocks / m.kvTotalBlocks);
    }
    this.pushedUsage[slot] = usage;
    if (m.kvTotalBlocks !== undefined && m.kvTotalBlocks > 0) this.kvTotalBlocks[slot] = m.kvTotalBlocks;
    this.pushedAt[slot] = now;
  }

  /** Pushed metrics of the slot exist and are younger than the staleness limit. */
  isFresh(slot: number, now: number): boolean {
    return now - this.pushedAt[slot]! <= this.stalenessMs;
  }

  /** Metrics were pushed once but are now stale. */
  isStale(slot: number, now: number): boolean {
    return this.pushedAt[slot] !== -Infinity && !this.isFresh(slot, now);
  }

  /**
   * Active prefill tokens: the larger of the fresh pushed value and the predicted one
   * (the engine has not yet seen what we routed since its last push; we do not see other routers).
   */
  activePrefillTokens(slot: number, fresh: boolean): number {
    const predicted = this.predictedPrefillTokens[slot]!;
    if (!fresh) return predicted;
    const pushed = this.pushedPrefillTokens[slot]!;
    return pushed > predicted ? pushed : predicted;
  }

  /** Active KV blocks: the larger of the fresh pushed value and the predicted unique blocks. */
  activeBlocks(slot: number, fresh: boolean): number {
    const predicted = this.predictedBlocks[slot]!;
    if (!fresh) return predicted;
    const pushed = this.pushedActiveBlocks[slot]!;
    return pushed > predicted ? pushed : predicted;
  }

  /** Queue length for the queue scorer: fresh pushed waiting requests, else predicted requests still in prefill. */
  queue(slot: number, fresh: boolean): number {
    const pushed = this.pushedWaiting[slot]!;
    return fresh && !Number.isNaN(pushed) ? pushed : this.predictedPrefilling[slot]!;
  }

  /** KV usage in [0, 1] for the kv scorer and the busy threshold: fresh pushed usage, else active / capacity, else 0. */
  usage(slot: number, fresh: boolean): number {
    const pushed = this.pushedUsage[slot]!;
    const total = this.kvTotalBlocks[slot]!;
    let u = fresh && !Number.isNaN(pushed) ? pushed : 0;
    if (total > 0) {
      const fromBlocks = this.activeBlocks(slot, fresh) / total;
      if (fromBlocks > u) u = fromBlocks;
    }
    return u > 1 ? 1 : u;
  }

  /**
   * Adds a request to a slot's predicted load: its block keys (each distinct key counted once
   * across the slot's active requests) and its uncached prefill tokens. `keys` is copied.
   */
  add(
    requestId: string,
    slot: number,
    keys: Uint32Array,
    keyCount: number,
    blockWeight: number,
    prefillTokens: number,
    now: number,
  ): TrackOutcome {
    if (this.requests.has(requestId)) return 'duplicate';
    let counter = this.counters[slot];
    if (counter === undefined) counter = this.counters[slot] = new PairCounter(keyCount);
    let added = 0;
    for (let k = 0; k < keyCount; k++) {
      if (counter.increment(keys[2 * k]!, keys[2 * k + 1]!)) added++;
    }
    this.predictedBlocks[slot] = this.predictedBlocks[slot]! + added * blockWeight;
    this.predictedPrefillTokens[slot] = this.predictedPrefillTokens[slot]! + prefillTokens;
    this.predictedRequests[slot] = this.predictedRequests[slot]! + 1;
    if (prefillTokens > 0) this.predictedPrefilling[slot] = this.predictedPrefilling[slot]! + 1;
    this.requests.set(requestId, {
      slot,
      keys: keys.slice(0, 2 * keyCount),
      blockWeight,
      prefillTokens,
      expiresAt: now + this.expiryMs,
      generation: this.generations[slot]!,
    });
    return 'added';
  }

  /** Drops the request's prefill tokens; false when the id is unknown. */
  markPrefillComplete(requestId: string): boolean {
    const r = this.requests.get(requestId);
    if (r === undefined) return false;
    this.dropPrefill(r);
    return true;
  }

  /** Removes the request from predicted load; false when the id is unknown. */
  free(requestId: string): boolean {
    const r = this.requests.get(requestId);
    if (r === undefined) return false;
    this.requests.delete(requestId);
    this.release(r);
    return true;
  }

  /** The slot a tracked request was routed to, or -1. */
  slotOf(requestId: string): number {
    return this.requests.get(requestId)?.slot ?? -1;
  }

  /**
   * Frees requests whose expiry passed; returns how many. Requests expire in insertion order
   * (same lifetime for all, monotonic clock), so this stops at the first live one.
   */
  expire(now: number): number {
    let n = 0;
    for (const [id, r] of this.requests) {
      if (r.expiresAt > now) break;
      this.requests.delete(id);
      this.release(r);
      n++;
    }
    return n;
  }

  private dropPrefill(r: TrackedRequest): void {
    if (r.prefillTokens === 0) return;
    if (r.generation === this.generations[r.slot]) {
      this.predictedPrefillTokens[r.slot] = Math.max(0, this.predictedPrefillTokens[r.slot]! - r.prefillTokens);
      this.predictedPrefilling[r.slot] = this.predictedPrefilling[r.slot]! - 1;
    }
    r.prefillTokens = 0;
  }

  private release(r: TrackedRequest): void {
    this.dropPrefill(r);
    if (r.generation !== this.generations[r.slot]) return;
    const counter = this.counters[r.slot];
    if (counter !== undefined) {
      let gone = 0;
      const keys = r.keys;
      for (let k = 0; k < keys.length; k += 2) if (counter.decrement(keys[k]!, keys[k + 1]!)) gone++;
      this.predictedBlocks[r.slot] = Math.max(0, this.predictedBlocks[r.slot]! - gone * r.blockWeight);
    }
    this.predictedRequests[r.slot] = this.predictedRequests[r.slot]! - 1;
  }
}
