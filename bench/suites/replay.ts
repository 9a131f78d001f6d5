/**
 * replay.mooncake.*: the Mooncake conversation trace routed over N simulated workers, the index
 * under test both routing (findMatches) and ingesting the resulting event stream; see
 * workloads/mooncake.ts for the expansion, the LRU engines and the assignment policy. The engines
 * publish one event batch per engine step (chunked prefill), as vLLM does, so a long prompt's new
 * blocks arrive as several batches; a batch is one trace operation.
 */
import type { BenchIndex, IndexKind } from '../baselines/types.js';
import type { BenchContext } from '../lib/context.js';
import { progress, ticker } from '../lib/progress.js';
import type { Impl } from '../lib/results.js';
import { summarize, type LatencyStats } from '../lib/timer.js';
import { DEFAULT_PREFILL_TOKENS, LoadCappedPolicy, MooncakeBlocks, SimWorker, readTrace, type TraceRequest } from '../workloads/mooncake.js';

/** Router-side figures of a replay prefix. */
export interface ReplayFigures {
  requests: number;
  /** Event batches applied: one per engine step that published events. */
  batches: number;
  events: number;
  routerMs: number;
  /** (requests + batches) / router-second: depends on the step granularity. */
  opsPerSec: number;
  /** Requests / router-second (apply included): independent of how events are batched. */
  requestsPerSec: number;
  latency: LatencyStats;
  /** Checksum of the routing decisions (equal across kinds when their overlaps agree). */
  routing: number;
  rejected: number;
  /** Blocks stored + removed by the applied events, and the time spent applying them. */
  appliedBlocks: number;
  applyMs: number;
  /** The index's `stats()` at the checkpoint (entries and live nodes), when the kind has them. */
  entries: number | null;
  nodes: number | null;
}

/**
 * Replays `requests` through `kind`; returns figures after each checkpoint (request counts).
 * `prefillTokens` is the engines' per-step prefill budget (one event batch per step).
 */
export function replay(kind: IndexKind, reqs: readonly TraceRequest[], blocks: MooncakeBlocks, workers: number, capacity: number, checkpoints: number[], label: string, prefillTokens = DEFAULT_PREFILL_TOKENS): ReplayFigures[] {
  const index: BenchIndex = kind.create();
  const maxBlocks = reqs.reduce((m, r) => Math.max(m, r.blocks), 0);
  const sims: SimWorker[] = [];
  const byId = new Map<string, number>();
  for (let w = 0; w < workers; w++) {
    const id = `10.1.${w >> 8}.${w & 255}:8000`;
    sims.push(new SimWorker(id, capacity, maxBlocks, prefillTokens));
    byId.set(id, w);
  }
  const policy = new LoadCappedPolicy(workers);
  const pairs = new Uint32Array(maxBlocks * 2);
  const big = new BigUint64Array(pairs.buffer);
  const useU32 = kind.useU32 && typeof index.findMatchesU32 === 'function';
  const last = checkpoints[checkpoints.length - 1]!;
  const lat = new Float64Array(last);
  let routerNs = 0n;
  let batches = 0;
  let events = 0;
  let routing = 0;
  let rejected = 0;
  let appliedBlocks = 0;
  let applyNs = 0n;
  const out: ReplayFigures[] = [];
  const overlaps: Array<[number, number]> = [];
  const tick = ticker(`${label} ${kind.label}`, last);
  for (let r = 0; r < last; r++) {
    const req = reqs[r]!;
    const n = blocks.query(req, pairs);
    const t0 = process.hrtime.bigint();
    const scores = useU32 ? index.findMatchesU32!(pairs, n) : index.findMatches(big.subarray(0, n));
    const t1 = process.hrtime.bigint();
    routerNs += t1 - t0;
    lat[r] = Number(t1 - t0) / 1000;
    overlaps.length = 0;
    for (const o of scores) overlaps.push([byId.get(o.workerId)!, o.blocks]);
    const w = policy.pick(overlaps, r);
    routing = (Math.imul(routing, 31) + w) | 0;
    const steps = sims[w]!.serveSteps(req, blocks);
    if (steps.length > 0) {
      // The request's step batches back to back, in step order, under one timer (no per-batch timer cost).
      const t2 = process.hrtime.bigint();
      for (const batch of steps) {
        for (const e of batch) {
          const res = index.apply(e);
          appliedBlocks += res.applied;
          if (res.error !== undefined) rejected++;
        }
      }
      const dt = process.hrtime.bigint() - t2;
      routerNs += dt;
      applyNs += dt;
      batches += steps.length;
      for (const batch of steps) events += batch.length;
    }
    if (checkpoints.includes(r + 1)) {
      const routerMs = Number(routerNs) / 1e6;
      const stats = index.stats?.();
      out.push({ requests: r + 1, batches, events, routerMs, opsPerSec: (r + 1 + batches) / (routerMs / 1000), requestsPerSec: (r + 1) / (routerMs / 1000), latency: summarize(lat.subarray(0, r + 1)), routing, rejected, appliedBlocks, applyMs: Number(applyNs) / 1e6, entries: stats?.entries ?? null, nodes: stats?.nodes ?? null });
    }
    if ((r & 255) === 0) tick(r + 1);
  }
  tick(last);
  return out;
}

/** Runs the replay for every worker count of the profile. */
export async function runReplaySuite(ctx: BenchContext, tracePath: string): Promise<void> {
  const B = 16;
  const hasher = await ctx.hasher(B);
  const { requests: wantAll, baselineRequests: wantBase, capacity16, workers } = ctx.profile.replay;
  progress(`replay: reading ${tracePath}`);
  const { requests, distinct } = readTrace(tracePath, B, wantAll);
  const all = requests.length;
  const baseN = Math.min(wantBase, all);
  progress(`replay: expanding ${distinct} hash ids to ${distinct * (512 / B)} blocks of ${B} tokens (XXH3 tokens + sequence hashes)`);
  const blocks = new MooncakeBlocks(requests, distinct, hasher);
  const capacity = Math.floor((capacity16 * 16) / B);
  const prefillTokens = DEFAULT_PREFILL_TOKENS;
  for (const N of workers) {
    const label = `N=${N}`;
    const figures = new Map<Impl, ReplayFigures[]>();
    for (const kind of ctx.kinds) {
      const isOurs = kind.impl === 'ours';
      const checkpoints = isOurs && baseN < all ? [baseN, all] : [isOurs ? all : baseN];
      progress(`replay ${label}: ${kind.label}, ${checkpoints[checkpoints.length - 1]} requests`);
      try {
        const f = replay(kind, requests, blocks, N, capacity, checkpoints, label, prefillTokens);
        figures.set(kind.impl, f);
        const lastF = f[f.length - 1]!;
        progress(`  ${kind.label}: ${Math.round(lastF.opsPerSec).toLocaleString()} ops/s, ${Math.round(lastF.requestsPerSec).toLocaleString()} requests/s, findMatches p50 ${lastF.latency.p50Us.toFixed(1)} µs p99 ${lastF.latency.p99Us.toFixed(1)} µs, ${lastF.batches} batches / ${lastF.events} events`);
        if (lastF.rejected > 0) ctx.warnings.push(`replay ${label} ${kind.label}: ${lastF.rejected} events rejected`);
      } catch (e) {
        ctx.warnings.push(`replay ${label} ${kind.label} failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
    // Ours again with the index sized up front for the entries the from-empty run ended with, as a
    // long-running router is: growing the tables from empty (copies, rehashes, first touches of
    // fresh memory) is a one-time cost that the from-empty figures include.
    const ours = ctx.kinds.find((k) => k.impl === 'ours');
    const grown = figures.get('ours')?.find((f) => f.requests === all);
    let presized: ReplayFigures | undefined;
    if (ours?.createSized !== undefined && grown?.entries != null && grown.nodes != null) {
      const blocksUp = grown.entries;
      const nodesUp = 2 * grown.nodes;
      progress(`replay ${label}: ${ours.label} pre-sized (initialBlocks ${blocksUp.toLocaleString()}, initialNodes ${nodesUp.toLocaleString()}), ${all} requests`);
      try {
        const sized: IndexKind = { ...ours, create: () => ours.createSized!(blocksUp, nodesUp) };
        presized = replay(sized, requests, blocks, N, capacity, [all], `${label} pre-sized`, prefillTokens)[0]!;
        progress(`  pre-sized: ${Math.round(presized.opsPerSec).toLocaleString()} ops/s, ${Math.round(presized.requestsPerSec).toLocaleString()} requests/s, findMatches p50 ${presized.latency.p50Us.toFixed(1)} µs p99 ${presized.latency.p99Us.toFixed(1)} µs`);
        if (presized.routing !== grown.routing) ctx.warnings.push(`replay ${label}: the pre-sized index routed differently from the grown one`);
      } catch (e) {
        ctx.warnings.push(`replay ${label} pre-sized failed: ${(e as Error).stack ?? String(e)}`);
      }
    }
    const at = (impl: Impl, n: number): ReplayFigures | undefined => figures.get(impl)?.find((f) => f.requests === n);
    const ref = at('reference', baseN);
    for (const [impl, f] of figures) {
      const mine = at(impl, baseN);
      if (impl !== 'reference' && ref !== undefined && mine !== undefined && mine.routing !== ref.routing) {
        ctx.warnings.push(`replay ${label}: ${impl} routed differently from the reference (overlaps disagree)`);
      }
      void f;
    }
    const config = `${label}, LRU ${capacity} blocks of ${B}, ${prefillTokens}-token steps`;
    const emit = (suffix: string, n: number, withBaselines: boolean, only?: ReplayFigures, sizing = ''): void => {
      const pickV = (g: (f: ReplayFigures) => number): Partial<Record<Impl, number>> => {
        const v: Partial<Record<Impl, number>> = {};
        if (only !== undefined) {
          v.ours = g(only);
          return v;
        }
        for (const impl of figures.keys()) {
          if (!withBaselines && impl !== 'ours') continue;
          const f = at(impl, n);
          if (f !== undefined) v[impl] = g(f);
        }
        return v;
      };
      const o = only ?? at('ours', n);
      const note = `${n} requests${o ? `, ${o.batches} event batches, ${o.events} events, ${o.appliedBlocks} blocks stored + removed` : ''}; per-step batches, ${prefillTokens}-token prefill budget (decode blocks not modeled); ops = requests + event batches, timed router work only (findMatches + apply)${sizing}`;
      for (const [name, unit, better, g] of [
        ['opsPerSec', 'ops/s', 'higher', (f: ReplayFigures) => f.opsPerSec],
        ['requestsPerSec', 'requests/s', 'higher', (f: ReplayFigures) => f.requestsPerSec],
        ['p50Us', 'µs', 'lower', (f: ReplayFigures) => f.latency.p50Us],
        ['p99Us', 'µs', 'lower', (f: ReplayFigures) => f.latency.p99Us],
        ['apply.blocksPerSec', 'blocks/s', 'higher', (f: ReplayFigures) => f.appliedBlocks / (f.applyMs / 1000)],
      ] as const) {
        const spec: Parameters<typeof ctx.results.add>[0] = { name: `replay.mooncake${suffix}.${name}`, unit, better, values: pickV(g), config, note };
        if (ctx.missing.ours !== undefined) spec.skipped = ctx.missing.ours;
        ctx.results.add(spec);
      }
    };
    if (baseN < all) {
      emit('', all, false);
      emit('.prefix', baseN, true);
    } else emit('', all, true);
    if (presized !== undefined && grown !== undefined) {
      emit('.presized', all, false, presized, `; index created with initialBlocks = ${grown.entries}, initialNodes = ${2 * grown.nodes!} (the entries and twice the nodes the from-empty run ends with)`);
    }
  }
}
