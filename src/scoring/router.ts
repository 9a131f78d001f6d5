import { createHasher, createTextHasher, type Hasher, type TextHasher } from '../hashing/index.js';
import { RadixIndex } from '../radix/index.js';
import { MatchScores, ROW_STRIDE } from '../radix/scores.js';
import type { ApplyResult, KvEvent, OverlapScores } from '../radix/types.js';
import type { LoadMetrics } from '../events/types.js';
import { defaultClock, parseRouterConfig, type RouterConfig, type RouterConfigInput } from './config.js';
import { decodeBlocksWith, overlapCreditBlocks, prefillBlocksAfterCredit, routingCost, type CostParams } from './cost.js';
import { describe, LoadTracker, validateLoadMetrics } from './load.js';
import { pickMin, sampleIndex, softmaxProbabilities } from './pickers.js';
import {
  kvUtilizationScorer,
  maxPicker,
  prefixScorer,
  queueScorer,
  randomPicker,
  type Filter,
  type Picker,
  type Scorer,
} from './plugins.js';
import { Counter, Histogram, writeGauge } from './prometheus.js';
import { PromptMemory } from './prompt-memory.js';
import { addWeighted, costScores } from './scorers.js';
import { Scratch, SNAPSHOT_FIELDS } from './scratch.js';
import type {
  CandidateScore,
  CandidateSpec,
  EndpointScore,
  PickFailure,
  PickFailureReason,
  PickRequest,
  PickResult,
  PickSuccess,
  RouterIndex,
  WorkerInfo,
  WorkerSpec,
} from './types.js';
import { ROLE_BOTH, ROLE_DECODE, ROLE_PREFILL, WorkerTable } from './workers.js';

/** Options of {@link createRouter} that are objects rather than configuration. */
export interface RouterOptions {
  /**
   * The index to use, e.g. one restored from a snapshot or shared with other code.
   * Default: a new empty `RadixIndex`.
   */
  index?: RouterIndex;
}

/**
 * Creates a router: validates the config (a {@link RouterConfigError} names any bad field),
 * prepares the block hashers, and starts with no workers.
 *
 * @example
 * ```ts
 * const router = await createRouter({ blockSize: 16 });
 * router.addWorker({ workerId: '10.0.0.1:8000' });
 * router.applyEvent(event);                       // KV events, from src/events or your own feed
 * const pick = router.pickEndpoint({ tokens, requestId: 'r1' });
 * if (!pick.ok) return reply(pick.status);        // 503 or 529
 * forward(pick.endpoint);
 * router.markPrefillComplete('r1'); router.free('r1');
 * ```
 */
export async function createRouter(config: RouterConfigInput = {}, options: RouterOptions = {}): Promise<Router> {
  const parsed = parseRouterConfig(config);
  const hashers = new Map<string, Hasher>();
  for (const lora of ['', ...parsed.loraNames]) {
    if (!hashers.has(lora)) hashers.set(lora, await makeHasher(parsed, lora));
  }
  const index = options.index ?? new RadixIndex();
  return new Router(parsed, index, hashers, options.index !== undefined);
}

function makeHasher(config: RouterConfig, loraName: string): Promise<Hasher> {
  return createHasher({
    blockSize: config.blockSize,
    ...(loraName !== '' ? { loraName } : {}),
    ...(config.cacheNamespace !== undefined ? { cacheNamespace: config.cacheNamespace } : {}),
  });
}

const HTTP_STATUS: Record<PickFailureReason, 503 | 529> = {
  NO_WORKERS: 503,
  NO_KNOWN_CANDIDATES: 503,
  NO_WORKER_FOR_ROLE: 503,
  ALL_BUSY: 529,
};

const NO_UNKNOWN: CandidateSpec[] = [];
const NO_KEYS = new Uint32Array(0);

/**
 * The router: workers, their KV events and load, and `pickEndpoint`. Create with
 * {@link createRouter}. Satisfies the `applyEvent` / `updateLoad` form of `IngestTarget`, so
 * event ingestion can feed it directly.
 *
 * Events for a worker that was never added register it (role `'both'`, the config's `kvEvents`)
 * unless config `autoRegisterWorkers` is false; then they are dropped and counted as rejected
 * (`reason="UNKNOWN_WORKER"` in {@link Router.metrics}). The same holds for `updateLoad`.
 */
export class Router {
  /** The validated configuration. */
  readonly config: RouterConfig;
  /** The index the router applies events to and matches against (e.g. to `snapshot()` it). */
  readonly index: RouterIndex;
  private readonly hashers: Map<string, Hasher>;
  private readonly textHashers = new Map<string, TextHasher>();
  private readonly pendingHashers = new Map<string, Promise<void>>();
  private readonly table: WorkerTable;
  private readonly load: LoadTracker;
  private readonly approx: PromptMemory;
  private readonly overlay: PromptMemory | undefined;
  private readonly scratch: Scratch;
  private readonly costParams: CostParams;
  private readonly scorers: readonly Scorer[];
  private readonly scorerWeightSum: number;
  private readonly picker: Picker;
  private readonly filters: readonly Filter[];
  /** Queue and KV usage feed the weighted scorers and custom filters; the cost policy needs neither. */
  private readonly needsLoadDetail: boolean;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Some event (or an injected index) may hold host/disk blocks: ask the index for tier counts. */
  private lowerTiers: boolean;

  // Per-pick state beyond the scratch arrays.
  private keys: Uint32Array | undefined;
  private keyCount = 0;
  private textMode = false;
  /** Tokens one prompt unit (block) stands for: B in token mode, blockChars / charsPerToken in text mode. */
  private unitTokens = 0;
  /** 0 for decode-role picks (overlap ignored), else 1. */
  private creditScale = 1;
  /** Some candidate of this pick is in approximate mode. */
  private anyApproximate = false;
  private hasher: Hasher | undefined;
  private textHasher: TextHasher | undefined;
  private unknown: CandidateSpec[] = NO_UNKNOWN;
  private readonly slab = new Slab();
  /**
   * Row → slot of the last index result: the index lists a query's caches in much the same order
   * from one query to the next, so most rows resolve by comparing the (same) id string instead of a
   * Map lookup. Flushed when the worker table changes.
   */
  private rowIds: string[] = [];
  private rowRanks = new Float64Array(0);
  private rowSlots = new Int32Array(0);
  private rowVersion = -1;
  /**
   * Rank-0 slot by the index's own id strings: a Map hit on the identical string object skips the
   * character compare a lookup with an equal but distinct string needs (about half the cost).
   */
  private rowSlotById = new Map<string, number>();
  /** The scratch block belongs to a pick result: the next evaluation needs a fresh one. */
  private blockTaken = false;

  private readonly picks = new Counter('kvrouter_picks_total', 'Endpoint picks by outcome.', 'outcome', [
    'picked',
    'no_workers',
    'no_known_candidates',
    'no_worker_for_role',
    'all_busy',
  ]);
  private readonly overlapRatio = new Histogram(
    'kvrouter_pick_overlap_ratio',
    'Overlap of the picked worker as a fraction of the prompt blocks.',
    [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
  );
  private readonly latency = new Histogram('kvrouter_pick_latency_seconds', 'Time spent in pickEndpoint, hashing included.', [
    5e-6, 1e-5, 2e-5, 4e-5, 8e-5, 1.2e-4, 2.5e-4, 5e-4, 1e-3, 1e-2, 0.1,
  ]);
  private readonly eventsApplied = new Counter('kvrouter_events_applied_total', 'KV events applied without error.');
  private readonly eventsRejected = new Counter(
    'kvrouter_events_rejected_total',
    'KV events wholly or partly rejected, by reason.',
    'reason',
    ['PARENT_NOT_FOUND', 'BLOCK_NOT_FOUND', 'INVALID_SEQUENCE', 'UNKNOWN_WORKER'],
  );
  private readonly blocksApplied = new Counter(
    'kvrouter_event_blocks_applied_total',
    'Block entries added, removed or cleared by KV events.',
  );
  private readonly requestIdAnomalies = new Counter(
    'kvrouter_request_id_anomalies_total',
    'Request ids that were no-ops: duplicate on pick, unknown on markPrefillComplete or free.',
    'kind',
    ['duplicate', 'unknown_prefill_complete', 'unknown_free'],
  );
  private readonly requestsExpired = new Counter('kvrouter_requests_expired_total', 'Tracked requests dropped after the request expiry without being freed.');
  private readonly unknownCandidates = new Counter('kvrouter_unknown_candidates_total', 'Candidates named in requests that the router does not know.');
  private readonly loadUpdates = new Counter('kvrouter_load_updates_total', 'Pushed load metrics by outcome.', 'outcome', ['accepted', 'unknown_worker']);
  private readonly workersAutoRegistered = new Counter('kvrouter_workers_auto_registered_total', 'Workers registered by their first event or metrics.');

  /** @internal Use {@link createRouter}. */
  constructor(config: RouterConfig, index: RouterIndex, hashers: Map<string, Hasher>, externalIndex: boolean) {
    this.config = config;
    this.index = index;
    this.hashers = hashers;
    this.now = config.now;
    this.random = config.random;
    this.lowerTiers = externalIndex;
    this.load = new LoadTracker(config.metricsStalenessMs, config.requestExpiryMs);
    this.approx = new PromptMemory(config.approximateTtlMs, config.approximateMaxBlocksPerWorker, config.now);
    this.overlay = config.predictedOverlay.enabled
      ? new PromptMemory(config.predictedOverlay.ttlMs, config.approximateMaxBlocksPerWorker, config.now)
      : undefined;
    this.table = new WorkerTable((capacity) => {
      this.load.ensureSlots(capacity);
      this.scratch.ensure(capacity);
    });
    this.scratch = new Scratch(this.table);
    this.costParams = {
      blockSize: config.blockSize,
      overlapCredit: config.overlapCredit,
      hostWeight: config.hostWeight,
      diskWeight: config.diskWeight,
      prefillLoadScale: config.prefillLoadScale,
    };
    this.scorers = config.scorers ?? [
      prefixScorer(config.weights.prefix),
      queueScorer(config.weights.queue),
      kvUtilizationScorer(config.weights.kv),
    ];
    this.scorerWeightSum = this.scorers.reduce((s, x) => s + x.weight, 0);
    if (!(this.scorerWeightSum > 0)) throw new RangeError('router config: scorers: the weights must sum to more than 0');
    this.picker = config.picker === 'max' ? maxPicker : config.picker === 'random' ? randomPicker : config.picker;
    this.filters = config.filters;
    this.needsLoadDetail = config.policy === 'weighted' || config.filters.length > 0;
  }

  // ───────────────────────────── workers ─────────────────────────────

  /**
   * Registers a worker, or updates a registered one: role, endpoint and kvEvents are replaced,
   * new ranks are added (ranks are removed only by {@link Router.removeWorker}).
   * Throws TypeError / RangeError on bad arguments.
   */
  addWorker(spec: WorkerSpec): void {
    if (spec === null || typeof spec !== 'object') throw new TypeError(`addWorker: expected an object, got ${describe(spec)}`);
    const workerId = checkWorkerId(spec.workerId, 'addWorker: workerId');
    const ranks = spec.dpRanks ?? [0];
    if (!Array.isArray(ranks) || ranks.length === 0) {
      throw new TypeError(`addWorker: dpRanks must be a non-empty array of ranks, got ${describe(ranks)}`);
    }
    for (const r of ranks) checkRank(r, 'addWorker: dpRanks[]');
    const role = spec.role ?? 'both';
    if (role !== 'prefill' && role !== 'decode' && role !== 'both') {
      throw new TypeError(`addWorker: role must be 'prefill', 'decode' or 'both', got ${describe(role)}`);
    }
    const endpoint = spec.endpoint ?? workerId;
    if (typeof endpoint !== 'string' || endpoint === '') {
      throw new TypeError(`addWorker: endpoint must be a non-empty string, got ${describe(endpoint)}`);
    }
    const kvEvents = spec.kvEvents ?? this.config.kvEvents;
    if (typeof kvEvents !== 'boolean') throw new TypeError(`addWorker: kvEvents must be a boolean, got ${describe(kvEvents)}`);
    for (const slot of this.table.upsert(workerId, ranks, role, endpoint, kvEvents)) this.resetSlot(slot);
  }

  /**
   * Forgets a worker (every rank, or one): its index entries, load, tracked requests (they become
   * no-ops) and approximate records. Unknown workers are a no-op.
   */
  removeWorker(workerId: string, dpRank?: number): void {
    checkWorkerId(workerId, 'removeWorker: workerId');
    if (dpRank !== undefined) checkRank(dpRank, 'removeWorker: dpRank');
    this.index.removeWorker(workerId, dpRank);
    for (const slot of this.table.remove(workerId, dpRank)) this.resetSlot(slot);
  }

  /** The registered workers. */
  workers(): WorkerInfo[] {
    return this.table.list();
  }

  private resetSlot(slot: number): void {
    this.load.resetSlot(slot);
    this.approx.clearSlot(slot);
    this.overlay?.clearSlot(slot);
  }

  /** Registers `(workerId, dpRank)` on first sight when allowed; returns false when it must be dropped. */
  private admit(workerId: string, dpRank: number): boolean {
    if (this.table.slotOf(workerId, dpRank) >= 0) return true;
    if (!this.config.autoRegisterWorkers) return false;
    const existing = this.table.get(workerId);
    if (existing === undefined) this.workersAutoRegistered.inc();
    this.addWorker(
      existing === undefined
        ? { workerId, dpRanks: [dpRank] }
        : { workerId, dpRanks: [dpRank], role: existing.role, endpoint: existing.endpoint, kvEvents: existing.kvEvents },
    );
    return true;
  }

  // ───────────────────────────── events and load ─────────────────────────────

  /**
   * Applies a KV event to the index (see INDEX-SEMANTICS.md) and counts the outcome. Malformed
   * events throw TypeError / RangeError and change nothing. Events of unregistered workers: see
   * the class description.
   */
  applyEvent(event: KvEvent): ApplyResult {
    if (event === null || typeof event !== 'object') throw new TypeError(`applyEvent: expected an event object, got ${describe(event)}`);
    const workerId = checkWorkerId(event.workerId, 'applyEvent: workerId');
    const dpRank = event.dpRank ?? 0;
    checkRank(dpRank, 'applyEvent: dpRank');
    const known = this.table.slotOf(workerId, dpRank) >= 0;
    if (!known && !this.config.autoRegisterWorkers) {
      this.eventsRejected.inc('UNKNOWN_WORKER');
      return { applied: 0 };
    }
    const result = this.index.apply(event); // throws on malformed input before anything is registered
    if (!known) this.admit(workerId, dpRank);
    if (event.tier !== undefined && event.tier !== 'device') this.lowerTiers = true;
    if (result.error === undefined) this.eventsApplied.inc();
    else this.eventsRejected.inc(result.error);
    this.blocksApplied.inc('', result.applied);
    return result;
  }

  /**
   * Records load metrics a worker pushed (DESIGN §5 names in camelCase; every field optional).
   * Metrics older than `metricsStalenessMs` are ignored. Throws TypeError / RangeError on bad input.
   */
  updateLoad(workerId: string, dpRank: number, metrics: LoadMetrics): void {
    checkWorkerId(workerId, 'updateLoad: workerId');
    checkRank(dpRank, 'updateLoad: dpRank');
    const m = validateLoadMetrics(metrics);
    if (!this.admit(workerId, dpRank)) {
      this.loadUpdates.inc('unknown_worker');
      return;
    }
    this.load.setPushed(this.table.slotOf(workerId, dpRank), m, this.now());
    this.loadUpdates.inc('accepted');
  }

  /** The request's prefill is done: its prefill tokens leave the predicted load. Unknown ids: no-op, counted; returns false. */
  markPrefillComplete(requestId: string): boolean {
    if (typeof requestId !== 'string') throw new TypeError(`markPrefillComplete: requestId must be a string, got ${describe(requestId)}`);
    this.expire();
    const ok = this.load.markPrefillComplete(requestId);
    if (!ok) this.requestIdAnomalies.inc('unknown_prefill_complete');
    return ok;
  }

  /** The request finished: it leaves the predicted load. Unknown ids: no-op, counted; returns false. */
  free(requestId: string): boolean {
    if (typeof requestId !== 'string') throw new TypeError(`free: requestId must be a string, got ${describe(requestId)}`);
    this.expire();
    const ok = this.load.free(requestId);
    if (!ok) this.requestIdAnomalies.inc('unknown_free');
    return ok;
  }

  /** Requests tracked in predicted load now. */
  get activeRequests(): number {
    return this.load.activeRequests;
  }

  private expire(now = this.now()): void {
    const n = this.load.expire(now);
    if (n > 0) this.requestsExpired.inc('', n);
  }

  // ───────────────────────────── hashers ─────────────────────────────

  /** Prepares the hasher of a LoRA adapter so requests may name it. Idempotent. */
  async prepareLora(loraName: string): Promise<void> {
    if (typeof loraName !== 'string') throw new TypeError(`prepareLora: loraName must be a string, got ${describe(loraName)}`);
    if (this.hashers.has(loraName)) return;
    await this.once(`lora:${loraName}`, async () => {
      this.hashers.set(loraName, await makeHasher(this.config, loraName));
    });
  }

  /** Prepares the text hasher of a model so text requests may name it. Idempotent. */
  async prepareTextModel(model: string): Promise<void> {
    if (typeof model !== 'string' || model === '') throw new TypeError(`prepareTextModel: model must be a non-empty string, got ${describe(model)}`);
    if (this.textHashers.has(model)) return;
    await this.once(`text:${model}`, async () => {
      this.textHashers.set(model, await createTextHasher({ model }));
    });
  }

  private async once(key: string, make: () => Promise<void>): Promise<void> {
    let p = this.pendingHashers.get(key);
    if (p === undefined) {
      p = make().finally(() => this.pendingHashers.delete(key));
      this.pendingHashers.set(key, p);
    }
    await p;
  }

  /** {@link Router.pickEndpoint}, preparing the request's LoRA or text-model hasher first when needed. */
  async pickEndpointAsync(request: PickRequest): Promise<PickResult> {
    if (request !== null && typeof request === 'object') {
      const r = request as { text?: unknown; model?: unknown; loraName?: unknown };
      if (typeof r.text === 'string' && typeof r.model === 'string' && r.model !== '') await this.prepareTextModel(r.model);
      else if (typeof r.loraName === 'string') await this.prepareLora(r.loraName);
    }
    return this.pickEndpoint(request);
  }

  // ───────────────────────────── picking ─────────────────────────────

  /**
   * Picks the endpoint for a request (DESIGN §6): overlap from the index (and approximate /
   * overlay records), load from pushed metrics and predicted load, then the configured policy.
   *
   * Cost per candidate `w` (policy `'cost'`, lower wins), with `n` prompt blocks and overlap `o`:
   * - `activePrefillTokens(w)` = max(fresh pushed `activePrefillTokens`, predicted uncached prefill
   *   tokens of tracked requests not yet marked prefill-complete);
   * - `activeBlocks(w)` = max(fresh pushed `activeDecodeBlocks` ?? `kvActiveBlocks`, predicted unique
   *   blocks of tracked requests). The max: the engine has not yet counted what was routed since its
   *   last push, and predicted load does not see other routers' requests;
   * - `prefillBlocks` = max(0, (activePrefillTokens + promptTokens)/B − credit(o by tier));
   * - `decodeBlocks` = activeBlocks + (n − o): cached blocks are shared, only the uncached tail adds
   *   KV pages. This is the reading under which DESIGN §6's example holds (w1: 2 active + 8 new = 10).
   * - `cost` = prefillLoadScale · prefillBlocks + decodeBlocks.
   * Decode-role picks ignore overlap in both terms (no credit, all n blocks new).
   * Stale metrics (older than `metricsStalenessMs`) are ignored: the worker is scored on predicted load.
   *
   * Returns `{ ok: true, … }` with the pick, or `{ ok: false, reason, status }` when no worker can
   * take it: answer HTTP `status` (503, or 529 when every eligible worker is busy). With a
   * `requestId` the request joins its worker's predicted load until {@link Router.free}.
   * Throws TypeError / RangeError for malformed requests (nothing is recorded then).
   */
  pickEndpoint(request: PickRequest): PickResult {
    const started = performance.now();
    const failure = this.evaluate(request, 'pickEndpoint', this.now === defaultClock ? started : this.now());
    if (failure !== undefined) {
      this.picks.inc(failure.reason.toLowerCase());
      this.latency.observe((performance.now() - started) / 1000);
      return failure;
    }
    const s = this.scratch;
    const chosen = this.choose();
    const slot = s.slot[chosen]!;
    this.record(request, slot, chosen, started);
    const result = new Picked(this, chosen);
    this.picks.inc('picked');
    this.overlapRatio.observe(s.promptBlocks > 0 ? s.overlapBlocks[chosen]! / s.promptBlocks : 0);
    this.latency.observe((performance.now() - started) / 1000);
    return result;
  }

  /**
   * Scores every eligible candidate in [0, 1] (higher is better) without picking or recording
   * anything, so an EPP can use the router as one scorer among its own. Policy `'cost'`:
   * `(c_max − c) / (c_max − c_min)`; policy `'weighted'`: the weighted scorers. Busy workers score 0.
   * No eligible worker: an empty array.
   */
  scoreEndpoints(request: PickRequest): EndpointScore[] {
    const failure = this.evaluate(request, 'scoreEndpoints', this.now());
    const s = this.scratch;
    const n = failure === undefined || failure.reason === 'ALL_BUSY' ? s.n : 0;
    const out: EndpointScore[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = { workerId: s.workerId(i), dpRank: s.dpRank(i), score: s.score[i]!, busy: s.busy[i] === 1 };
    }
    return out;
  }

  /** Chooses among the non-busy candidates; writes probabilities; returns the candidate index. */
  private choose(): number {
    const s = this.scratch;
    const n = s.n;
    const usesCost = this.config.policy === 'cost';
    let busy = 0;
    for (let i = 0; i < n; i++) busy += s.busy[i]!;
    if (busy === 0) {
      // Common case: everyone eligible, pick straight from the per-candidate arrays.
      const values = usesCost ? s.cost : s.score;
      return this.pickAmong(values, n, s.probability, usesCost);
    }
    let m = 0;
    for (let i = 0; i < n; i++) {
      s.probability[i] = 0;
      if (s.busy[i] === 1) continue;
      s.pickIndex[m] = i;
      s.pickValues[m] = usesCost ? s.cost[i]! : s.score[i]!;
      m++;
    }
    const j = this.pickAmong(s.pickValues, m, s.pickProbs, usesCost);
    for (let k = 0; k < m; k++) s.probability[s.pickIndex[k]!] = s.pickProbs[k]!;
    return s.pickIndex[j]!;
  }

  private pickAmong(values: Float64Array, m: number, probs: Float64Array, usesCost: boolean): number {
    if (!usesCost) return this.picker.pick(values, m, this.random, probs);
    if (this.config.temperature === 0) return pickMin(values, m, this.random, probs);
    softmaxProbabilities(values, m, this.config.temperature, probs);
    return sampleIndex(probs, m, this.random);
  }

  /** After a pick: approximate / overlay records and predicted load. */
  private record(request: PickRequest, slot: number, chosen: number, now: number): void {
    const s = this.scratch;
    const keys = this.keys;
    if (keys !== undefined) {
      // The memory's own depth from this pick's match lets a longer prompt take over its prefix's record.
      if (this.textMode || this.table.slotKvEvents[slot] === 0) this.approx.record(slot, keys, this.keyCount, this.approx.depth(slot));
      else if (this.overlay !== undefined) this.overlay.record(slot, keys, this.keyCount, this.overlay.depth(slot));
    }
    const requestId = request.requestId;
    if (requestId === undefined) return;
    const uncached = s.promptTokens - s.overlapBlocks[chosen]! * this.unitTokens * this.creditScale;
    const outcome = this.load.add(
      requestId,
      slot,
      keys ?? NO_KEYS,
      keys === undefined ? 0 : this.keyCount,
      this.unitTokens / this.config.blockSize,
      uncached > 0 ? uncached : 0,
      this.now === defaultClock ? now : this.now(),
    );
    if (outcome === 'duplicate') this.requestIdAnomalies.inc('duplicate');
  }

  /**
   * Validates the request, lists eligible candidates, hashes, and fills the scratch arrays with
   * overlap, load, cost, busy flags and scores. Returns a failure when no worker can take it.
   */
  private evaluate(request: PickRequest, caller: string, now: number): PickFailure | undefined {
    const req = this.checkRequest(request, caller);
    this.expire(now);
    const failure = this.gather(req.candidates, req.role);
    if (failure !== undefined) return failure;
    this.prepareBlock();
    this.clearOverlap();
    if (this.hasher !== undefined) this.matchTokens(this.hasher, req.tokens!, req.requestId !== undefined);
    else this.matchText(this.textHasher!, req.text!);
    let notBusy = this.computeLoad(now, req.role);
    if (this.filters.length > 0) {
      notBusy = this.applyFilters();
      if (this.scratch.n === 0) return this.fail('NO_WORKERS');
    }
    this.computeScores();
    return notBusy === 0 ? this.fail('ALL_BUSY') : undefined;
  }

  /** Throws TypeError / RangeError for a malformed request; picks the hasher it needs. */
  private checkRequest(request: PickRequest, caller: string): CheckedRequest {
    if (request === null || typeof request !== 'object') {
      throw new TypeError(`${caller}: request must be an object, got ${describe(request)}`);
    }
    const req = request as CheckedRequest & { model?: unknown; loraName?: unknown };
    const role = req.role;
    if (role !== undefined && role !== 'prefill' && role !== 'decode') {
      throw new TypeError(`${caller}: role must be 'prefill' or 'decode' (or absent), got ${describe(role)}`);
    }
    if (req.requestId !== undefined && (typeof req.requestId !== 'string' || req.requestId === '')) {
      throw new TypeError(`${caller}: requestId must be a non-empty string, got ${describe(req.requestId)}`);
    }
    if (req.candidates !== undefined) checkCandidates(req.candidates, caller);
    this.hasher = undefined;
    this.textHasher = undefined;
    if (req.tokens !== undefined) {
      const t = req.tokens as { length?: unknown } | null;
      if (t === null || typeof t !== 'object' || typeof t.length !== 'number') {
        throw new TypeError(`${caller}: tokens must be an array-like of integers, got ${describe(req.tokens)}`);
      }
      const lora = req.loraName ?? '';
      if (typeof lora !== 'string') throw new TypeError(`${caller}: loraName must be a string, got ${describe(lora)}`);
      this.hasher = this.hashers.get(lora);
      if (this.hasher === undefined) {
        throw new RangeError(`${caller}: LoRA '${lora}' is not prepared: list it in config.loraNames or await router.prepareLora('${lora}')`);
      }
    } else if (req.text !== undefined) {
      if (typeof req.text !== 'string') throw new TypeError(`${caller}: text must be a string, got ${describe(req.text)}`);
      if (typeof req.model !== 'string' || req.model === '') {
        throw new TypeError(`${caller}: a text request needs model, a non-empty string; got ${describe(req.model)}`);
      }
      this.textHasher = this.textHashers.get(req.model);
      if (this.textHasher === undefined) {
        throw new RangeError(
          `${caller}: text model '${req.model}' is not prepared: await router.prepareTextModel('${req.model}') or use pickEndpointAsync`,
        );
      }
    } else {
      throw new TypeError(`${caller}: request needs tokens (an array-like of integers) or text and model`);
    }
    return req;
  }

  /** Lists the eligible candidates: the subset (or every registered cache), then the role filter. */
  private gather(candidates: readonly CandidateSpec[] | undefined, role: 'prefill' | 'decode' | undefined): PickFailure | undefined {
    const s = this.scratch;
    const table = this.table;
    s.begin();
    this.unknown = NO_UNKNOWN;
    if (candidates !== undefined) {
      for (const c of candidates) {
        const workerId = typeof c === 'string' ? c : c.workerId;
        const rank = typeof c === 'string' ? undefined : c.dpRank;
        if (rank === undefined) {
          let any = false;
          for (const slot of table.slotsOf(workerId)) {
            s.push(slot);
            any = true;
          }
          if (!any) this.noteUnknown(c);
        } else {
          const slot = table.slotOf(workerId, rank);
          if (slot >= 0) s.push(slot);
          else this.noteUnknown(c);
        }
      }
      if (s.n === 0) return this.fail(table.size === 0 ? 'NO_WORKERS' : 'NO_KNOWN_CANDIDATES');
    } else {
      const active = table.activeSlots;
      s.slot.set(active);
      s.n = active.length;
      if (s.n === 0) return this.fail('NO_WORKERS');
    }
    const wantA = role === 'prefill' ? ROLE_PREFILL : role === 'decode' ? ROLE_DECODE : ROLE_BOTH;
    let n = 0;
    let anyApproximate = false;
    for (let i = 0; i < s.n; i++) {
      const slot = s.slot[i]!;
      const r = table.slotRole[slot];
      if (r !== wantA && r !== ROLE_BOTH) continue;
      if (table.slotKvEvents[slot] === 0) anyApproximate = true;
      s.slot[n++] = slot;
    }
    s.n = n;
    this.anyApproximate = anyApproximate;
    this.creditScale = role === 'decode' ? 0 : 1;
    return n === 0 ? this.fail('NO_WORKER_FOR_ROLE') : undefined;
  }

  /**
   * Gives the pick a block for its reported fields (a fresh one sized to the candidates when the
   * last result kept the current one) and fills in the ranks.
   */
  private prepareBlock(): void {
    const s = this.scratch;
    const n = s.n;
    if (this.blockTaken || s.stride < n) {
      s.useBlock(this.slab.take((SNAPSHOT_FIELDS + 1) * n), n);
      this.blockTaken = false;
    }
    const slotRank = this.table.slotRank;
    for (let i = 0; i < n; i++) s.rank[i] = slotRank[s.slot[i]!]!;
  }

  private clearOverlap(): void {
    const s = this.scratch;
    s.overlapBlocks.fill(0, 0, s.n);
    s.device.fill(0, 0, s.n);
    s.host.fill(0, 0, s.n);
    s.disk.fill(0, 0, s.n);
    this.keys = undefined;
    this.keyCount = 0;
  }

  /**
   * Token mode: hash, match against the index, then (when needed) sequence hashes for the
   * approximate / overlay lookups and request tracking. The hasher's views are valid until its
   * next call, and sequence hashing overwrites the block hashes in place: order matters.
   */
  private matchTokens(hasher: Hasher, tokens: ArrayLike<number>, tracked: boolean): void {
    const s = this.scratch;
    const pairs = hasher.blockHashesU32(tokens); // validates every token
    const count = pairs.length >>> 1;
    this.textMode = false;
    this.unitTokens = this.config.blockSize;
    s.promptTokens = tokens.length;
    s.promptBlocks = count;
    if (count === 0) return;
    const scores = this.index.findMatchesU32(pairs, count);
    if (scores.size > 0) this.readScores(scores);
    const memories = this.anyApproximate || this.overlay !== undefined;
    if (!memories && !tracked) return;
    const keys = (this.keys = hasher.sequenceHashesU32(pairs, count));
    this.keyCount = count;
    if (!memories) return;
    const table = this.table;
    const overlap = s.overlapBlocks;
    // One walk of the prompt per memory gives every slot's overlap.
    if (this.anyApproximate) this.approx.match(keys, count);
    this.overlay?.match(keys, count);
    for (let i = 0; i < s.n; i++) {
      const slot = s.slot[i]!;
      const memory = table.slotKvEvents[slot] === 0 ? this.approx : this.overlay;
      if (memory === undefined) continue;
      const d = memory.depth(slot);
      if (d > overlap[i]!) {
        // Blocks beyond the exact run count as device blocks.
        s.device[i] = s.device[i]! + (d - overlap[i]!);
        overlap[i] = d;
      }
    }
  }

  /** Copies the index's per-cache overlap and tier counts into the scratch rows. */
  private readScores(scores: OverlapScores): void {
    const s = this.scratch;
    const table = this.table;
    s.indexSlots();
    const flat = flatRows(scores);
    if (flat !== undefined) {
      // RadixIndex's rows, read directly: no generator, no per-row objects, tiers included.
      const n = flat.rowCount;
      const rows = flat.rows;
      if (this.rowVersion !== table.version) {
        this.rowIds.length = 0;
        this.rowSlotById.clear();
        this.rowVersion = table.version;
      }
      const byId = this.rowSlotById;
      if (this.rowSlots.length < n) {
        this.rowSlots = new Int32Array(Math.max(n, 2 * this.rowSlots.length));
        this.rowRanks = new Float64Array(this.rowSlots.length);
        this.rowIds.length = 0;
      }
      const rowIds = this.rowIds;
      const rowRanks = this.rowRanks;
      const rowSlots = this.rowSlots;
      for (let r = 0, o = 0; r < n; r++, o += ROW_STRIDE) {
        const id = flat.rowWorkerId(r);
        const rank = rows[o]!;
        let slot: number;
        if (rowIds[r] === id && rowRanks[r] === rank) slot = rowSlots[r]!;
        else {
          if (rank === 0) {
            const known = byId.get(id);
            if (known === undefined) byId.set(id, (slot = table.slotOf(id, 0)));
            else slot = known;
          } else slot = table.slotOf(id, rank);
          if (r <= rowIds.length) {
            rowIds[r] = id; // keep the array dense: rows past a gap are not cached
            rowRanks[r] = rank;
            rowSlots[r] = slot;
          }
        }
        const i = s.indexOf(slot);
        const blocks = rows[o + 1]!;
        if (i < 0 || blocks === 0) continue;
        s.overlapBlocks[i] = blocks;
        s.device[i] = rows[o + 2]!;
        s.host[i] = rows[o + 3]!;
        s.disk[i] = rows[o + 4]!;
      }
      return;
    }
    const lowerTiers = this.lowerTiers;
    for (const m of scores) {
      const i = s.indexOf(table.slotOf(m.workerId, m.dpRank));
      if (i < 0 || m.blocks === 0) continue;
      s.overlapBlocks[i] = m.blocks;
      if (lowerTiers) {
        const t = scores.tiers(m.workerId, m.dpRank);
        s.device[i] = t.device;
        s.host[i] = t.host;
        s.disk[i] = t.disk;
      } else s.device[i] = m.blocks;
    }
  }

  /** Text mode: chained 64-character block hashes, matched against approximate records only. */
  private matchText(th: TextHasher, text: string): void {
    const s = this.scratch;
    const keys = th.blockHashesU32(text);
    const count = keys.length >>> 1;
    this.textMode = true;
    this.unitTokens = th.blockChars / this.config.textCharsPerToken;
    s.promptTokens = Math.ceil(text.length / this.config.textCharsPerToken);
    s.promptBlocks = count;
    if (count === 0) return;
    this.keys = keys;
    this.keyCount = count;
    this.approx.match(keys, count);
    for (let i = 0; i < s.n; i++) {
      const d = this.approx.depth(s.slot[i]!);
      s.overlapBlocks[i] = d;
      s.device[i] = d;
    }
  }

  /** Load, cost and busy flag of every candidate; returns how many are not busy. */
  private computeLoad(now: number, role: 'prefill' | 'decode' | undefined): number {
    const s = this.scratch;
    const n = s.n;
    const p = this.costParams;
    const creditScale = role === 'decode' ? 0 : 1;
    const unitBlocks = this.unitTokens / p.blockSize;
    const promptTokens = s.promptTokens;
    const promptBlocks = s.promptBlocks * unitBlocks;
    const busyPrefill = this.config.busyThresholds.prefillTokens;
    const busyFraction = this.config.busyThresholds.decodeBlocksFraction;
    const load = this.load;
    const { overlapBlocks: overlap, device, host, disk } = s;
    let notBusy = 0;
    for (let i = 0; i < n; i++) {
      const slot = s.slot[i]!;
      const fresh = load.isFresh(slot, now);
      const activePrefill = load.activePrefillTokens(slot, fresh);
      const activeBlocks = load.activeBlocks(slot, fresh);
      const credit = overlapCreditBlocks(p, device[i]!, host[i]!, disk[i]!, creditScale) * unitBlocks;
      const prefill = prefillBlocksAfterCredit(p, activePrefill, promptTokens, credit);
      // Decode-role picks are on load only: overlap neither credits prefill nor saves new blocks.
      const decode = decodeBlocksWith(activeBlocks, promptBlocks, overlap[i]! * unitBlocks * creditScale);
      s.prefillBlocks[i] = prefill;
      s.decodeBlocks[i] = decode;
      s.cost[i] = routingCost(p, prefill, decode);
      let usage = 0;
      if (this.needsLoadDetail) {
        s.queue[i] = load.queue(slot, fresh);
        usage = s.kvUsage[i] = load.usage(slot, fresh);
      } else if (busyFraction !== undefined) usage = load.usage(slot, fresh);
      const busy =
        (busyPrefill !== undefined && activePrefill > busyPrefill) || (busyFraction !== undefined && usage > busyFraction);
      s.busy[i] = busy ? 1 : 0;
      if (!busy) notBusy++;
    }
    return notBusy;
  }

  /** Scores in [0, 1] under the policy; busy candidates score 0. */
  private computeScores(): void {
    const s = this.scratch;
    if (this.config.policy === 'cost') costScores(s.cost, s.n, s.score);
    else {
      s.score.fill(0, 0, s.n);
      for (const scorer of this.scorers) {
        if (scorer.weight === 0) continue;
        scorer.score(s, s.part);
        addWeighted(s.score, s.part, scorer.weight / this.scorerWeightSum, s.n);
      }
    }
    for (let i = 0; i < s.n; i++) if (s.busy[i] === 1) s.score[i] = 0;
  }

  private applyFilters(): number {
    const s = this.scratch;
    let kept = 0;
    let notBusy = 0;
    for (let i = 0; i < s.n; i++) {
      let keep = true;
      for (const f of this.filters) {
        if (!f.keep(s, i)) {
          keep = false;
          break;
        }
      }
      if (!keep) continue;
      // Compact after the loop over filters so they always see consistent rows.
      s.slot[kept] = s.slot[i]!;
      s.rank[kept] = s.rank[i]!;
      s.overlapBlocks[kept] = s.overlapBlocks[i]!;
      s.device[kept] = s.device[i]!;
      s.host[kept] = s.host[i]!;
      s.disk[kept] = s.disk[i]!;
      s.prefillBlocks[kept] = s.prefillBlocks[i]!;
      s.decodeBlocks[kept] = s.decodeBlocks[i]!;
      s.cost[kept] = s.cost[i]!;
      s.queue[kept] = s.queue[i]!;
      s.kvUsage[kept] = s.kvUsage[i]!;
      s.busy[kept] = s.busy[i]!;
      if (s.busy[i] === 0) notBusy++;
      kept++;
    }
    s.n = kept;
    return notBusy;
  }

  private noteUnknown(c: CandidateSpec): void {
    if (this.unknown === NO_UNKNOWN) this.unknown = [];
    this.unknown.push(typeof c === 'string' ? c : { ...c });
    this.unknownCandidates.inc();
  }

  private fail(reason: PickFailureReason): PickFailure {
    const messages: Record<PickFailureReason, string> = {
      NO_WORKERS: 'no worker is registered',
      NO_KNOWN_CANDIDATES: 'none of the candidates is a registered worker',
      NO_WORKER_FOR_ROLE: 'no candidate worker has a role that can serve this request',
      ALL_BUSY: 'every eligible worker is above its busy threshold',
    };
    return { ok: false, reason, status: HTTP_STATUS[reason], message: messages[reason], unknownCandidates: this.unknown };
  }

  /**
   * @internal Snapshot of the last evaluation for a {@link Picked} result: the scratch block the
   * pick was computed in (the reported fields, then the slots) and the table's current slot →
   * worker id array, which is replaced rather than overwritten, so ids are read only if
   * `candidates` is.
   */
  snapshotCandidates(): CandidateSnapshot {
    const s = this.scratch;
    const n = s.n;
    const block = s.block;
    const slots = s.slot;
    const base = SNAPSHOT_FIELDS * s.stride;
    for (let i = 0; i < n; i++) block[base + i] = slots[i]!;
    // The result keeps this pick's block; the next pick computes in a fresh one (no copy).
    this.blockTaken = true;
    return { n, slotWorker: this.table.slotWorker, packed: block, stride: s.stride, promptBlocks: s.promptBlocks, unknown: this.unknown };
  }

  /** @internal Endpoint of a slot. */
  endpointOf(candidate: number): string {
    return this.table.slotEndpoint[this.scratch.slot[candidate]!]!;
  }

  // ───────────────────────────── observability ─────────────────────────────

  /** Prometheus text exposition (format 0.0.4) of the router's metrics, names `kvrouter_*`. */
  metrics(): string {
    const out: string[] = [];
    const now = this.now();
    this.expire();
    this.picks.write(out);
    this.overlapRatio.write(out);
    this.latency.write(out);
    this.eventsApplied.write(out);
    this.eventsRejected.write(out);
    this.blocksApplied.write(out);
    this.loadUpdates.write(out);
    this.workersAutoRegistered.write(out);
    this.requestIdAnomalies.write(out);
    this.requestsExpired.write(out);
    this.unknownCandidates.write(out);
    const stats = this.index.stats();
    writeGauge(out, 'kvrouter_index_nodes', 'Index tree nodes in use.', stats.nodes);
    writeGauge(out, 'kvrouter_index_entries', '(worker, block) entries held by the index.', stats.entries);
    writeGauge(out, 'kvrouter_index_bytes', 'Bytes of typed-array storage reserved by the index.', stats.bytes);
    this.approx.purgeStale();
    writeGauge(out, 'kvrouter_approximate_blocks', '(worker, block) entries remembered by approximate mode.', this.approx.totalSize());
    writeGauge(out, 'kvrouter_workers', 'Registered caches (worker, dpRank).', this.table.size);
    writeGauge(out, 'kvrouter_active_requests', 'Requests tracked in predicted load.', this.load.activeRequests);
    let stale = 0;
    const active = this.table.activeSlots;
    for (let i = 0; i < active.length; i++) if (this.load.isStale(active[i]!, now)) stale++;
    writeGauge(out, 'kvrouter_stale_workers', 'Caches whose pushed load metrics are older than the staleness limit.', stale);
    return out.join('\n') + '\n';
  }
}

/**
 * Hands out Float64Array views of a large shared buffer: a view is a small on-heap object, where a
 * fresh typed array per pick would cost an off-heap allocation. A full slab is dropped (views keep
 * it alive while referenced) and a new one started.
 */
class Slab {
  private buffer = new ArrayBuffer(0);
  private used = 0;

  take(length: number): Float64Array<ArrayBuffer> {
    const bytes = length * 8;
    if (this.used + bytes > this.buffer.byteLength) {
      this.buffer = new ArrayBuffer(Math.max(1 << 20, bytes));
      this.used = 0;
    }
    const view = new Float64Array(this.buffer, this.used, length);
    this.used += bytes;
    return view;
  }
}

/**
 * RadixIndex's scores through their official `@internal` row view (`rowCount`, `rowWorkerId`,
 * `rows` of {@link ROW_STRIDE}: dpRank, blocks, device, host, disk); iterating the public generator
 * costs more than the match itself at W = 256. Anything else (the reference, a custom index) takes
 * the public path; the router tests compare both paths on the same events.
 * @internal
 */
export function flatRows(scores: OverlapScores): MatchScores | undefined {
  return scores instanceof MatchScores ? scores : undefined;
}

/** A request after validation (fields typed loosely until checked). */
interface CheckedRequest {
  tokens?: ArrayLike<number>;
  text?: string;
  requestId?: string;
  candidates?: readonly CandidateSpec[];
  role?: 'prefill' | 'decode';
}

/** @internal A pick's per-candidate figures, copied out of the scratch arrays. */
interface CandidateSnapshot {
  /** Candidates. */
  n: number;
  /** The worker table's slot → worker id array at pick time. */
  slotWorker: readonly string[];
  /**
   * Field k of candidate i at `k · stride + i`: rank, overlap, device, host, disk, prefill, decode,
   * cost, score, probability, busy; then candidate i's slot at `SNAPSHOT_FIELDS · stride + i`.
   */
  packed: Float64Array;
  stride: number;
  promptBlocks: number;
  unknown: CandidateSpec[];
}

/** A successful pick; `candidates` objects are built on first access. */
class Picked implements PickSuccess {
  readonly ok = true;
  readonly workerId: string;
  readonly dpRank: number;
  readonly endpoint: string;
  readonly overlapBlocks: number;
  readonly promptBlocks: number;
  readonly cost: number;
  readonly unknownCandidates: CandidateSpec[];
  #snapshot: CandidateSnapshot;
  #candidates: CandidateScore[] | undefined;

  constructor(router: Router, chosen: number) {
    const snap = router.snapshotCandidates();
    const n = snap.stride;
    this.#snapshot = snap;
    this.workerId = snap.slotWorker[snap.packed[SNAPSHOT_FIELDS * n + chosen]!]!;
    this.dpRank = snap.packed[chosen]!;
    this.endpoint = router.endpointOf(chosen);
    this.overlapBlocks = snap.packed[n + chosen]!;
    this.promptBlocks = snap.promptBlocks;
    this.cost = snap.packed[7 * n + chosen]!;
    this.unknownCandidates = snap.unknown;
  }

  get candidates(): CandidateScore[] {
    if (this.#candidates !== undefined) return this.#candidates;
    const { n: count, slotWorker, packed: p, stride: n } = this.#snapshot;
    const slotAt = SNAPSHOT_FIELDS * n;
    const out: CandidateScore[] = new Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = {
        workerId: slotWorker[p[slotAt + i]!]!,
        dpRank: p[i]!,
        overlapBlocks: p[n + i]!,
        tiers: { device: p[2 * n + i]!, host: p[3 * n + i]!, disk: p[4 * n + i]! },
        prefillBlocks: p[5 * n + i]!,
        decodeBlocks: p[6 * n + i]!,
        cost: p[7 * n + i]!,
        score: p[8 * n + i]!,
        probability: p[9 * n + i]!,
        busy: p[10 * n + i] === 1,
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

function checkWorkerId(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new TypeError(`${what} must be a non-empty string, got ${describe(v)}`);
  return v;
}

function checkRank(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative integer, got ${v}`);
  return v;
}

function checkCandidates(candidates: unknown, caller: string): void {
  if (!Array.isArray(candidates)) throw new TypeError(`${caller}: candidates must be an array, got ${describe(candidates)}`);
  if (candidates.length === 0) throw new RangeError(`${caller}: candidates must not be empty (omit it to consider every worker)`);
  for (let i = 0; i < candidates.length; i++) {
    const c: unknown = candidates[i];
    if (typeof c === 'string') {
      if (c === '') throw new TypeError(`${caller}: candidates[${i}] must be a non-empty worker id`);
      continue;
    }
    if (c === null || typeof c !== 'object') {
      throw new TypeError(`${caller}: candidates[${i}] must be a worker id or { workerId, dpRank? }, got ${describe(c)}`);
    }
    const o = c as { workerId?: unknown; dpRank?: unknown };
    checkWorkerId(o.workerId, `${caller}: candidates[${i}].workerId`);
    if (o.dpRank !== undefined) checkRank(o.dpRank, `${caller}: candidates[${i}].dpRank`);
  }
}
