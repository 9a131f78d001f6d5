import { EventQueue } from './clock.js';
import { engineBlockHashes, SimEngine, type EngineConfig } from './engine.js';
import { PairSet } from './pair-set.js';
import {
  leastLoadedPolicy,
  POLICY_NAMES,
  randomPolicy,
  roundRobinPolicy,
  type FleetView,
  type PolicyName,
  type RoutingPolicy,
} from './policies.js';
import type { PolicyReport, SimReport } from './report.js';
import { routerPolicy } from './router-policy.js';
import { distribution, percentiles, Samples } from './stats.js';
import type { SimRequest, Workload } from './workload.js';

/** Options of {@link simulate}. */
export interface SimulationOptions {
  /** The requests to replay. */
  workload: Workload;
  /** Engines in the fleet. Default 16. */
  workers?: number;
  /** Tokens per KV block (engines and router). Default 16. */
  blockSize?: number;
  /** KV blocks per engine. Default: 262,144 tokens' worth (16,384 blocks of 16). */
  capacityBlocks?: number;
  /** Most requests running per engine. Default 64. */
  batchLimit?: number;
  /** Prefill throughput per engine, uncached tokens per second. Default 16,000. */
  prefillTokensPerSecond?: number;
  /** Fixed cost per prefill, ms. Default 5. */
  prefillOverheadMs?: number;
  /** Decode latency per generated token, ms. Default 20. */
  decodeMsPerToken?: number;
  /** Policies to compare, in order. Default: all ({@link POLICY_NAMES}). */
  policies?: readonly PolicyName[];
  /** Seed of the random choices (random policy, router tie-breaks). Default 1. */
  seed?: number;
  /** NATS server URL: engines publish events over NATS and the router subscribes. Default: in-process. */
  natsUrl?: string;
  /** Called as requests finish (at most every 1% of a policy's run). */
  onProgress?: (policy: string, done: number, total: number) => void;
}

/** Default tokens of KV cache per engine. */
export const DEFAULT_CAPACITY_TOKENS = 262_144;

const EMPTY = new Uint32Array(0);
const TTFT_BUCKETS_MS = [25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200];
const SERIES_BUCKETS = 120;
const SAMPLE_EVERY_MS = 100;

/** Context handed to policy factories. @internal */
export interface PolicyContext {
  fleet: FleetView;
  blockSize: number;
  seed: number;
  clock: EventQueue;
  natsUrl: string | undefined;
}

async function createPolicy(name: PolicyName, ctx: PolicyContext): Promise<RoutingPolicy> {
  switch (name) {
    case 'round-robin':
      return roundRobinPolicy(ctx.fleet);
    case 'random':
      return randomPolicy(ctx.fleet, ctx.seed);
    case 'least-loaded':
      return leastLoadedPolicy(ctx.fleet);
    case 'kv':
      return routerPolicy('kv', ctx, true);
    case 'approx':
      return routerPolicy('approx', ctx, false);
  }
}

/** A workload with its engine hashes computed once for all policies. @internal */
export interface PreparedWorkload {
  workload: Workload;
  /** Engine hashes per request (see {@link engineBlockHashes}). */
  hashes: Uint32Array[];
  /** See {@link idealHitRate}. */
  idealHitRate: number;
}

/** Computes the engine hashes of every request and the ideal hit rate. @internal */
export function prepareWorkload(workload: Workload, blockSize: number): PreparedWorkload {
  const seen = new PairSet(1 << 16);
  const hashes: Uint32Array[] = [];
  let hits = 0;
  let total = 0;
  for (const req of workload.requests) {
    const h = engineBlockHashes(workload.promptTokens(req), workload.outputTokens(req), blockSize);
    hashes.push(h);
    const maxHit = Math.floor((req.promptLength - 1) / blockSize);
    let matching = true;
    for (let i = 0; i < h.length / 2; i++) {
      const known = !seen.add(h[2 * i]!, h[2 * i + 1]!);
      if (matching && known && i < maxHit) hits++;
      else matching = false;
    }
    total += Math.floor(req.promptLength / blockSize);
  }
  return { workload, hashes, idealHitRate: total > 0 ? hits / total : 0 };
}

/**
 * Hit rate of one infinite cache that has seen every earlier request's prompt and output, with
 * the engine's rule that the last prompt token is always computed: an upper bound for any fleet.
 */
export function idealHitRate(workload: Workload, blockSize: number): number {
  return prepareWorkload(workload, blockSize).idealHitRate;
}

interface Resolved extends EngineConfig {
  workers: number;
  seed: number;
}

function resolve(o: SimulationOptions): Resolved {
  const blockSize = o.blockSize ?? 16;
  const r: Resolved = {
    workers: o.workers ?? 16,
    blockSize,
    capacityBlocks: o.capacityBlocks ?? Math.ceil(DEFAULT_CAPACITY_TOKENS / blockSize),
    batchLimit: o.batchLimit ?? 64,
    prefillTokensPerSecond: o.prefillTokensPerSecond ?? 16_000,
    prefillOverheadMs: o.prefillOverheadMs ?? 5,
    decodeMsPerToken: o.decodeMsPerToken ?? 20,
    seed: o.seed ?? 1,
  };
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('workers', r.workers);
  positiveInt('blockSize', r.blockSize);
  positiveInt('capacityBlocks', r.capacityBlocks);
  positiveInt('batchLimit', r.batchLimit);
  if (!(r.prefillTokensPerSecond > 0)) throw new RangeError(`prefillTokensPerSecond must be > 0, got ${r.prefillTokensPerSecond}`);
  if (!(r.prefillOverheadMs >= 0)) throw new RangeError(`prefillOverheadMs must be >= 0, got ${r.prefillOverheadMs}`);
  if (!(r.decodeMsPerToken >= 0)) throw new RangeError(`decodeMsPerToken must be >= 0, got ${r.decodeMsPerToken}`);
  if (!Number.isInteger(r.seed)) throw new RangeError(`seed must be an integer, got ${r.seed}`);
  return r;
}

/** Runs one policy over the workload on a fresh fleet. @internal */
export async function runPolicy(
  name: PolicyName,
  prepared: PreparedWorkload,
  cfg: Resolved,
  natsUrl: string | undefined,
  onProgress?: (policy: string, done: number, total: number) => void,
): Promise<PolicyReport> {
  const wallStart = performance.now();
  const clock = new EventQueue();
  const workload = prepared.workload;
  const requests = workload.requests;
  const total = requests.length;
  const engines: SimEngine[] = [];
  const workerIds = Array.from({ length: cfg.workers }, (_, i) => `worker-${i}`);
  const fleet: FleetView = { workerIds, activeRequests: (i) => engines[i]!.activeRequests };
  const policy = await createPolicy(name, { fleet, blockSize: cfg.blockSize, seed: cfg.seed, clock, natsUrl });

  const ttft = new Samples();
  const e2e = new Samples();
  const pickUs = new Samples();
  const ttftHistogram = new Array<number>(TTFT_BUCKETS_MS.length + 1).fill(0);
  let hitBlocks = 0;
  let promptBlocks = 0;
  let promptTokens = 0;
  let completed = 0;
  let rejected = 0;
  let lastFinish = 0;
  const progressStep = Math.max(1, Math.floor(total / 100));

  // Series buckets over the arrival span (requests finishing later land in the last bucket).
  const span = Math.max(1, requests.length > 0 ? requests[requests.length - 1]!.arrivalMs : 1);
  const bucketMs = span / SERIES_BUCKETS;
  const bucketOf = (t: number): number => Math.min(SERIES_BUCKETS - 1, Math.floor(t / bucketMs));
  const bHits = new Float64Array(SERIES_BUCKETS);
  const bBlocks = new Float64Array(SERIES_BUCKETS);
  const bMax = new Float64Array(SERIES_BUCKETS);
  const bMean = new Float64Array(SERIES_BUCKETS);
  const bSamples = new Float64Array(SERIES_BUCKETS);
  const firstArrival = requests.length > 0 ? requests[0]!.arrivalMs : 0;
  const lastArrival = requests.length > 0 ? requests[requests.length - 1]!.arrivalMs : 0;
  let imbalanceSum = 0;
  let imbalanceSamples = 0;

  const finished = (): void => {
    const done = completed + rejected;
    if (onProgress !== undefined && (done % progressStep === 0 || done === total)) onProgress(name, done, total);
  };
  const hooks = {
    firstToken(req: SimRequest, hits: number, blocks: number): void {
      const ms = clock.now - req.arrivalMs;
      ttft.push(ms);
      let b = 0;
      while (b < TTFT_BUCKETS_MS.length && ms > TTFT_BUCKETS_MS[b]!) b++;
      ttftHistogram[b]!++;
      hitBlocks += hits;
      promptBlocks += blocks;
      const k = bucketOf(clock.now);
      bHits[k]! += hits;
      bBlocks[k]! += blocks;
      policy.prefillDone?.(req);
    },
    completed(req: SimRequest, wasRejected: boolean): void {
      if (wasRejected) rejected++;
      else {
        completed++;
        e2e.push(clock.now - req.arrivalMs);
      }
      lastFinish = clock.now;
      policy.completed?.(req);
      finished();
    },
  };
  for (let i = 0; i < cfg.workers; i++) engines.push(new SimEngine(workerIds[i]!, 0, cfg, clock, hooks, policy.sink));

  const sample = (): void => {
    let max = 0;
    let sum = 0;
    for (const e of engines) {
      const a = e.activeRequests;
      sum += a;
      if (a > max) max = a;
    }
    const mean = sum / engines.length;
    const k = bucketOf(clock.now);
    bMax[k]! += max;
    bMean[k]! += mean;
    bSamples[k]!++;
    // Imbalance counts only while requests arrive: the ramp-down after the last arrival says
    // nothing about the policy (a lone straggler is "16x the mean").
    if (mean > 0 && clock.now >= firstArrival && clock.now <= lastArrival) {
      imbalanceSum += max / mean;
      imbalanceSamples++;
    }
    if (completed + rejected < total) clock.at(clock.now + SAMPLE_EVERY_MS, sample);
  };
  clock.at(0, sample);

  let counters: Record<string, number> = {};
  try {
    for (const req of requests) {
      while (clock.peekTime() <= req.arrivalMs) clock.step();
      clock.now = Math.max(clock.now, req.arrivalMs);
      if (policy.sync !== undefined) await policy.sync();
      const prompt = policy.needsTokens === true ? workload.promptTokens(req) : EMPTY;
      promptTokens += req.promptLength;
      const t0 = performance.now();
      const w = policy.pick(req, prompt);
      pickUs.push((performance.now() - t0) * 1000);
      engines[w]!.submit(req, prepared.hashes[req.index]!, () => {
        const p = prompt.length === req.promptLength ? prompt : workload.promptTokens(req);
        const all = new Uint32Array(req.promptLength + req.outputLength);
        all.set(p);
        all.set(workload.outputTokens(req), req.promptLength);
        return all;
      });
    }
    while (clock.step()) {
      /* drain */
    }
    // Let the last events (completions) reach the router before its counters are read.
    if (policy.sync !== undefined) await policy.sync();
    counters = policy.counters?.() ?? {};
  } finally {
    await policy.close?.();
  }

  const series = { timeS: [] as number[], hitRate: [] as Array<number | null>, maxActive: [] as number[], meanActive: [] as number[] };
  for (let k = 0; k < SERIES_BUCKETS; k++) {
    series.timeS.push(round((k * bucketMs) / 1000, 3));
    series.hitRate.push(bBlocks[k]! > 0 ? round(bHits[k]! / bBlocks[k]!, 4) : null);
    series.maxActive.push(bSamples[k]! > 0 ? round(bMax[k]! / bSamples[k]!, 3) : 0);
    series.meanActive.push(bSamples[k]! > 0 ? round(bMean[k]! / bSamples[k]!, 3) : 0);
  }
  return {
    policy: policy.name,
    completed,
    rejected,
    hitRate: promptBlocks > 0 ? hitBlocks / promptBlocks : 0,
    prefillTokensSaved: hitBlocks * cfg.blockSize,
    promptTokens,
    ttftMs: distribution(ttft.values()),
    e2eMs: distribution(e2e.values()),
    loadImbalance: imbalanceSamples > 0 ? imbalanceSum / imbalanceSamples : 1,
    pickUs: distribution(pickUs.values()),
    wallMs: performance.now() - wallStart,
    simulatedS: lastFinish / 1000,
    ttftHistogram,
    ttftPercentilesMs: percentiles(ttft.values()).map((v) => round(v, 3)),
    series,
    counters,
  };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Replays a workload on a simulated fleet once per policy and reports prefix hit rate, prefill
 * saved, TTFT and end-to-end latency, load imbalance and router time per pick.
 */
export async function simulate(options: SimulationOptions): Promise<SimReport> {
  const wallStart = performance.now();
  const cfg = resolve(options);
  const policies = options.policies ?? POLICY_NAMES;
  if (policies.length === 0) throw new RangeError('policies must name at least one policy');
  for (const p of policies) {
    if (!POLICY_NAMES.includes(p)) throw new RangeError(`unknown policy ${JSON.stringify(p)}, expected one of ${POLICY_NAMES.join(', ')}`);
  }
  if (options.workload.requests.length === 0) throw new RangeError('the workload has no requests');
  const prepared = prepareWorkload(options.workload, cfg.blockSize);
  const reports: PolicyReport[] = [];
  for (const p of policies) reports.push(await runPolicy(p, prepared, cfg, options.natsUrl, options.onProgress));
  return {
    version: 1,
    workload: options.workload.name,
    requests: options.workload.requests.length,
    idealHitRate: prepared.idealHitRate,
    config: {
      workers: cfg.workers,
      blockSize: cfg.blockSize,
      capacityBlocks: cfg.capacityBlocks,
      batchLimit: cfg.batchLimit,
      prefillTokensPerSecond: cfg.prefillTokensPerSecond,
      decodeMsPerToken: cfg.decodeMsPerToken,
      seed: cfg.seed,
      transport: options.natsUrl !== undefined ? 'nats' : 'inproc',
    },
    ttftBucketsMs: TTFT_BUCKETS_MS,
    policies: reports,
    wallMs: performance.now() - wallStart,
  };
}
