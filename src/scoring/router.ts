import { createHasher, createTextHasher, type Hasher, type TextHasher } from '../hashing/index.js';
import { RadixIndex } from '../radix/index.js';
import type { ApplyResult, KvEvent, OverlapScores } from '../radix/types.js';
import type { LoadMetrics } from '../events/types.js';
import { defaultClock, parseRouterConfig, type RouterConfig, type RouterConfigInput } from './config.js';
import type { CostParams } from './cost.js';
import { describe, LoadTracker, validateLoadMetrics } from './load.js';
import { costProbabilities, pickTie, sampleIndex } from './pickers.js';
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
import { baseSnapshot, Picked, Slab, SNAPSHOT_FIELDS, snapshotCandidates, type PickContext } from './pick-result.js';
import { Scratch } from './scratch.js';
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
import { ROLE_BOTH, ROLE_DECODE, ROLE_PREFILL, WorkerTable, type EligibleSlots } from './workers.js';

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
  /** Storage of the results' candidate snapshots. */
  private readonly slab = new Slab();
  private readonly pickContext: PickContext;
  /**
   * Index cache slot → router slot (-1: not a router slot, -2: not looked up yet), valid while
   * the index's cache epoch and the worker table's version are the ones recorded here.
   */
  private slotOfCache: Int32Array = new Int32Array(0);
  private cacheMapEpoch = -1;
  private cacheMapVersion = -1;
  /** The pick lists every eligible worker (no candidates subset): this list, for this role. */
  private eligible: EligibleSlots | undefined;
  private eligibleRole = ROLE_BOTH;
  /** Per role code: index cache slot → candidate index in that role's eligible list. */
  private readonly candidateMaps: CandidateMap[] = [0, 1, 2].map(() => ({ map: new Int32Array(0), positions: new Int32Array(0), epoch: -1, list: undefined }));
  /** The last computeLoad's first cheapest non-busy candidate and how many tie with it (listed in scratch.ties). */
  private minIndex = -1;
  private minTies = 0;
  /**
   * The pick's candidate snapshot data when computeLoad wrote it in its own pass (the lean case: no
   * busy pass, filters, plugin scores or lower tiers); otherwise undefined and the result copies
   * the scratch afterwards.
   */
  private leanSnapshot: Float64Array | undefined;

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
    this.pickContext = { costParams: this.costParams, temperature: config.temperature };
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
    const failure = this.evaluate(request, 'pickEndpoint', this.now === defaultClock ? started : this.now(), false);
    if (failure !== undefined) {
      this.picks.inc(failure.reason.toLowerCase());
      this.latency.observe((performance.now() - started) / 1000);
      return failure;
    }
    const s = this.scratch;
    const chosen = this.choose();
    const slot = s.slot[chosen]!;
    this.record(request, slot, chosen, started);
    const table = this.table;
    const lean = this.leanSnapshot;
    const snapshot =
      lean !== undefined ? baseSnapshot(s.n, lean, table.slotWorker, table.slotRank) : snapshotCandidates(s, this.slab, table.slotWorker, table.slotRank, this.config.policy !== 'cost');
    const result = new Picked(snapshot, this.pickContext, chosen, table.slotEndpoint[slot]!, s.cost[chosen]!, s.promptBlocks, this.unknown);
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
    const failure = this.evaluate(request, 'scoreEndpoints', this.now(), true);
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
    if (this.config.policy === 'cost') {
      if (this.config.temperature === 0 && this.filters.length === 0) {
        // computeLoad tracked the cheapest: no pass here unless there is a tie to break. Same
        // choice as pickTie over costProbabilities, which the result uses for `probability`.
        if (this.minTies === 1) return this.minIndex;
        let k = Math.floor(this.random() * this.minTies);
        if (k >= this.minTies) k = this.minTies - 1;
        return s.ties[k]!;
      }
      costProbabilities(s.cost, s.busy, n, this.config.temperature, s.probability);
      return this.config.temperature === 0 ? pickTie(s.probability, n, this.random) : sampleIndex(s.probability, n, this.random);
    }
    let busy = 0;
    for (let i = 0; i < n; i++) busy += s.busy[i]!;
    // Common case: everyone eligible, the picker sees the per-candidate arrays directly.
    if (busy === 0) return this.picker.pick(s.score, n, this.random, s.probability);
    let m = 0;
    for (let i = 0; i < n; i++) {
      s.probability[i] = 0;
      if (s.busy[i] === 1) continue;
      s.pickIndex[m] = i;
      s.pickValues[m] = s.score[i]!;
      m++;
    }
    const j = this.picker.pick(s.pickValues, m, this.random, s.pickProbs);
    for (let k = 0; k < m; k++) s.probability[s.pickIndex[k]!] = s.pickProbs[k]!;
    return s.pickIndex[j]!;
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
  private evaluate(request: PickRequest, caller: string, now: number, wantScores: boolean): PickFailure | undefined {
    const req = this.checkRequest(request, caller);
    this.expire(now);
    const failure = this.gather(req.candidates, req.role);
    if (failure !== undefined) return failure;
    this.clearOverlap();
    if (this.hasher !== undefined) this.matchTokens(this.hasher, req.tokens!, req.requestId !== undefined);
    else this.matchText(this.textHasher!, req.text!);
    let notBusy = this.computeLoad(now, req.role, !wantScores);
    if (this.filters.length > 0) {
      notBusy = this.applyFilters();
      if (this.scratch.n === 0) return this.fail('NO_WORKERS');
    }
    // The cost policy picks on costs; its scores are for scoreEndpoints (and results, lazily).
    if (wantScores || this.config.policy !== 'cost') this.computeScores();
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
    const wanted = role === 'prefill' ? ROLE_PREFILL : role === 'decode' ? ROLE_DECODE : ROLE_BOTH;
    this.creditScale = role === 'decode' ? 0 : 1;
    this.unknown = NO_UNKNOWN;
    s.begin();
    if (candidates === undefined) {
      // Every eligible worker: the table's cached list, in the order the row map below knows.
      if (table.size === 0) return this.fail('NO_WORKERS');
      const eligible = table.eligible(wanted);
      this.eligible = eligible;
      this.eligibleRole = wanted;
      s.slot.set(eligible.slots);
      s.n = eligible.slots.length;
      this.anyApproximate = eligible.anyApproximate;
      return s.n === 0 ? this.fail('NO_WORKER_FOR_ROLE') : undefined;
    }
    this.eligible = undefined;
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
    let n = 0;
    let anyApproximate = false;
    for (let i = 0; i < s.n; i++) {
      const slot = s.slot[i]!;
      const r = table.slotRole[slot];
      if (r !== wanted && r !== ROLE_BOTH) continue;
      if (table.slotKvEvents[slot] === 0) anyApproximate = true;
      s.slot[n++] = slot;
    }
    s.n = n;
    this.anyApproximate = anyApproximate;
    return n === 0 ? this.fail('NO_WORKER_FOR_ROLE') : undefined;
  }

  private clearOverlap(): void {
    const s = this.scratch;
    s.overlapBlocks.fill(0, 0, s.n);
    // device / host / disk are filled only once some overlap has lower tiers (see Scratch.lowerTiers).
    s.lowerTiers = false;
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
    const index = this.index;
    if (index instanceof RadixIndex) this.readMatchedSlots(index, index.matchSlotsU32(pairs, count));
    else {
      const scores = index.findMatchesU32(pairs, count);
      if (scores.size > 0) this.readScores(scores);
    }
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
        // Blocks beyond the exact run count as device blocks (implicitly, without lower tiers).
        if (s.lowerTiers) s.device[i] = s.device[i]! + (d - overlap[i]!);
        overlap[i] = d;
      }
    }
  }

  /**
   * RadixIndex's zero-allocation result: `rows` cache slots in `matchedSlots`, their counts in
   * `matchedCounts`. Index slots map to router slots through an array (a Map lookup per row cost
   * as much as the walk at W = 256), rebuilt when either side's slots change.
   */
  private readMatchedSlots(index: RadixIndex, rows: number): void {
    if (rows === 0) return;
    if (this.eligible !== undefined) {
      this.readMatchedEligible(index, rows, this.eligible);
      return;
    }
    const s = this.scratch;
    const table = this.table;
    s.indexSlots();
    if (this.cacheMapEpoch !== index.cacheEpoch || this.cacheMapVersion !== table.version) {
      this.slotOfCache.fill(-2);
      this.cacheMapEpoch = index.cacheEpoch;
      this.cacheMapVersion = table.version;
    }
    const slots = index.matchedSlots;
    const counts = index.matchedCounts;
    let map = this.slotOfCache;
    let tierRows = 0;
    for (let r = 0; r < rows; r++) {
      const cache = slots[r]!;
      if (cache >= map.length) map = this.slotOfCache = grownUnresolved(map, cache + 1);
      let slot = map[cache]!;
      if (slot === -2) slot = map[cache] = table.slotOf(index.cacheWorkerId(cache), index.cacheDpRank(cache));
      const i = s.indexOf(slot);
      if (i >= 0) tierRows |= copyOverlap(s, i, counts, cache * 4);
    }
    if (tierRows !== 0) {
      beginTiers(s);
      for (let r = 0; r < rows; r++) {
        const cache = slots[r]!;
        const i = s.indexOf(map[cache]!);
        if (i >= 0) copyTiers(s, i, counts, cache * 4);
      }
    }
  }

  /** {@link Router.readMatchedSlots} when the candidates are the table's eligible list: cache → candidate directly. */
  private readMatchedEligible(index: RadixIndex, rows: number, eligible: EligibleSlots): void {
    const s = this.scratch;
    const table = this.table;
    const cm = this.candidateMaps[this.eligibleRole]!;
    let map = cm.map;
    if (cm.epoch !== index.cacheEpoch || cm.list !== eligible) {
      map.fill(-2);
      cm.epoch = index.cacheEpoch;
      cm.list = eligible;
      if (cm.positions.length < table.slotCount) cm.positions = new Int32Array(table.slotRole.length);
      cm.positions.fill(-1);
      for (let i = 0; i < eligible.slots.length; i++) cm.positions[eligible.slots[i]!] = i;
    }
    const slots = index.matchedSlots;
    const counts = index.matchedCounts;
    let tierRows = 0;
    for (let r = 0; r < rows; r++) {
      const cache = slots[r]!;
      if (cache >= map.length) map = cm.map = grownUnresolved(map, cache + 1);
      let i = map[cache]!;
      if (i === -2) {
        const slot = table.slotOf(index.cacheWorkerId(cache), index.cacheDpRank(cache));
        i = map[cache] = slot < 0 ? -1 : cm.positions[slot]!;
      }
      if (i >= 0) tierRows |= copyOverlap(s, i, counts, cache * 4);
    }
    if (tierRows !== 0) {
      beginTiers(s);
      for (let r = 0; r < rows; r++) {
        const i = map[slots[r]!]!;
        if (i >= 0) copyTiers(s, i, counts, slots[r]! * 4);
      }
    }
  }

  /** Any other index: its public scores (and tiers when some event named a lower tier). */
  private readScores(scores: OverlapScores): void {
    const s = this.scratch;
    const table = this.table;
    s.indexSlots();
    const lowerTiers = this.lowerTiers;
    if (lowerTiers) beginTiers(s);
    for (const m of scores) {
      const i = s.indexOf(table.slotOf(m.workerId, m.dpRank));
      if (i < 0 || m.blocks === 0) continue;
      s.overlapBlocks[i] = m.blocks;
      if (lowerTiers) {
        const t = scores.tiers(m.workerId, m.dpRank);
        s.device[i] = t.device;
        s.host[i] = t.host;
        s.disk[i] = t.disk;
      }
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

  /**
   * Load, cost and busy flag of every candidate; returns how many are not busy. Also lists the
   * cheapest non-busy candidates for {@link Router.choose} (`minIndex`, `minTies`, `scratch.ties`)
   * and, in the lean case, writes the pick's snapshot (`leanSnapshot`). The min tracking appears
   * twice on purpose: fused into the main loop when nobody can be busy, in a second pass after
   * the busy flags otherwise.
   *
   * The main loop reads every array through a local: TurboFan does not hoist property loads out
   * of loops, and method calls per candidate doubled its time at W = 256. It inlines the
   * formulas of cost.ts term for term (the tests compare against them).
   */
  private computeLoad(now: number, role: 'prefill' | 'decode' | undefined, wantSnapshot: boolean): number {
    const s = this.scratch;
    const n = s.n;
    const p = this.costParams;
    const creditScale = role === 'decode' ? 0 : 1;
    const unitBlocks = this.unitTokens / p.blockSize;
    const promptTokens = s.promptTokens;
    const promptBlocks = s.promptBlocks * unitBlocks;
    const blockSize = p.blockSize;
    const { overlapCredit, hostWeight, diskWeight, prefillLoadScale } = p;
    const { pushedAt, pushedPrefillTokens, pushedActiveBlocks, predictedPrefillTokens, predictedBlocks } = this.load;
    const staleness = this.config.metricsStalenessMs;
    const { overlapBlocks: overlap, device, host, disk, slot: slots, prefillBlocks, decodeBlocks, cost, busy, lowerTiers } = s;
    const busyPrefill = this.config.busyThresholds.prefillTokens;
    const busyFraction = this.config.busyThresholds.decodeBlocksFraction;
    const busyPass = this.needsLoadDetail || busyPrefill !== undefined || busyFraction !== undefined;
    // Lean case: nobody can be busy, so the cheapest is tracked here, and a pick's snapshot (see
    // pick-result.ts) is written here too instead of in a second pass over the scratch.
    const lean = !busyPass;
    const ties = s.ties;
    // x / B and x · (1 / B) are the same double when B is a power of two (an exact scaling).
    const perBlock = (blockSize & (blockSize - 1)) === 0 ? 1 / blockSize : 0;
    const d = lean && wantSnapshot && !s.lowerTiers ? this.slab.floats(SNAPSHOT_FIELDS * n) : undefined;
    this.leanSnapshot = d;
    let minCost = Infinity;
    let minIndex = -1;
    let minTies = 0;
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!;
      const fresh = now - pushedAt[slot]! <= staleness;
      let activePrefill = predictedPrefillTokens[slot]!;
      let activeBlocks = predictedBlocks[slot]!;
      if (fresh) {
        const pushedPrefill = pushedPrefillTokens[slot]!;
        if (pushedPrefill > activePrefill) activePrefill = pushedPrefill;
        const pushedBlocks = pushedActiveBlocks[slot]!;
        if (pushedBlocks > activeBlocks) activeBlocks = pushedBlocks;
      }
      // overlapCreditBlocks · unitBlocks, prefillBlocksAfterCredit, decodeBlocksWith, routingCost.
      // Without host or disk blocks, device = overlap and the dropped terms are exact zeros.
      const o = overlap[i]!;
      const credit = lowerTiers
        ? creditScale * (overlapCredit * device[i]! + hostWeight * host[i]! + diskWeight * disk[i]!) * unitBlocks
        : creditScale * (overlapCredit * o) * unitBlocks;
      const left = (perBlock !== 0 ? (activePrefill + promptTokens) * perBlock : (activePrefill + promptTokens) / blockSize) - credit;
      const prefill = left > 0 ? left : 0;
      // Decode-role picks are on load only: overlap neither credits prefill nor saves new blocks.
      const added = promptBlocks - o * unitBlocks * creditScale;
      const decode = activeBlocks + (added > 0 ? added : 0);
      const c = prefillLoadScale * prefill + decode;
      cost[i] = c;
      if (c < minCost) {
        minCost = c;
        minIndex = i;
        ties[0] = i;
        minTies = 1;
      } else if (c === minCost) ties[minTies++] = i;
      if (d !== undefined) {
        // The snapshot is the only reader of prefill and decode in the lean case.
        d[i] = slot * 2;
        d[n + i] = o;
        d[2 * n + i] = prefill;
        d[3 * n + i] = decode;
      } else {
        prefillBlocks[i] = prefill;
        decodeBlocks[i] = decode;
      }
    }
    busy.fill(0, 0, n);
    this.minIndex = minIndex;
    this.minTies = minTies;
    if (lean) return n;
    this.computeBusy(now, busyPrefill, busyFraction);
    let notBusy = 0;
    minCost = Infinity;
    minIndex = -1;
    minTies = 0;
    for (let i = 0; i < n; i++) {
      if (busy[i] === 1) continue;
      notBusy++;
      const c = cost[i]!;
      if (c < minCost) {
        minCost = c;
        minIndex = i;
        ties[0] = i;
        minTies = 1;
      } else if (c === minCost) ties[minTies++] = i;
    }
    this.minIndex = minIndex;
    this.minTies = minTies;
    return notBusy;
  }

  /** Queue and KV usage for plugins and busy flags, when configured (a second, rarer pass). */
  private computeBusy(now: number, busyPrefill: number | undefined, busyFraction: number | undefined): void {
    const s = this.scratch;
    const load = this.load;
    const needsDetail = this.needsLoadDetail;
    for (let i = 0; i < s.n; i++) {
      const slot = s.slot[i]!;
      const fresh = load.isFresh(slot, now);
      let usage = 0;
      if (needsDetail) {
        s.queue[i] = load.queue(slot, fresh);
        usage = s.kvUsage[i] = load.usage(slot, fresh);
      } else if (busyFraction !== undefined) usage = load.usage(slot, fresh);
      const isBusy =
        (busyPrefill !== undefined && load.activePrefillTokens(slot, fresh) > busyPrefill) || (busyFraction !== undefined && usage > busyFraction);
      s.busy[i] = isBusy ? 1 : 0;
    }
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
 * Index cache slot → candidate index in one role's eligible list (-1: not a candidate, -2: not
 * looked up yet), valid while the index's cache epoch and the list are the recorded ones.
 */
interface CandidateMap {
  map: Int32Array;
  /** Router slot → position in `list` (-1: not in it). */
  positions: Int32Array;
  epoch: number;
  list: EligibleSlots | undefined;
}

/** A cache → slot/candidate map grown to at least `size` entries; new entries are -2 (not looked up yet). */
function grownUnresolved(map: Int32Array, size: number): Int32Array {
  const grown = new Int32Array(Math.max(size, 2 * map.length, 64)).fill(-2);
  grown.set(map);
  return grown;
}

/** Copies a match row's overlap; returns 1 when the row has host or disk blocks, else 0. */
function copyOverlap(s: Scratch, i: number, counts: Int32Array, o: number): number {
  const blocks = counts[o]!;
  if (blocks === 0) return 0;
  s.overlapBlocks[i] = blocks;
  return (counts[o + 2]! | counts[o + 3]!) !== 0 ? 1 : 0;
}

/** Some overlap has lower tiers: device / host / disk become valid (zero, then filled per row). */
function beginTiers(s: Scratch): void {
  s.device.fill(0, 0, s.n);
  s.host.fill(0, 0, s.n);
  s.disk.fill(0, 0, s.n);
  s.lowerTiers = true;
}

/** Copies a match row's tier counts (after {@link beginTiers}). */
function copyTiers(s: Scratch, i: number, counts: Int32Array, o: number): void {
  s.device[i] = counts[o + 1]!;
  s.host[i] = counts[o + 2]!;
  s.disk[i] = counts[o + 3]!;
}

/** A request after validation (fields typed loosely until checked). */
interface CheckedRequest {
  tokens?: ArrayLike<number>;
  text?: string;
  requestId?: string;
  candidates?: readonly CandidateSpec[];
  role?: 'prefill' | 'decode';
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
