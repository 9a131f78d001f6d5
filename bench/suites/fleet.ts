/**
 * The fleet suite: for each index kind on the same seeded fleet, stored blocks/s, findMatches
 * latency per depth, bytes per entry after GC, snapshot size/save/restore, removed blocks/s.
 */
import type { Hasher } from '../../src/hashing/index.js';
import type { OverlapScores } from '../../src/radix/types.js';
import type { BenchIndex, IndexKind } from '../baselines/types.js';
import type { BenchContext } from '../lib/context.js';
import { depthName, fleetLabel, type FleetSize } from '../lib/profiles.js';
import { progress, ticker } from '../lib/progress.js';
import type { Impl } from '../lib/results.js';
import { fullGc, measureLatency, msSince, usedBytes, type LatencyStats } from '../lib/timer.js';
import { Fleet, type FleetQuery } from '../workloads/fleet.js';

/** Figures of one index kind on one fleet. */
export interface IndexMeasurement {
  storeBlocksPerSec: number;
  removeBlocksPerSec: number;
  bytesPerEntry: number | null;
  entries: number;
  latency: Map<number, LatencyStats>;
  snapshot: { bytes: number; saveMs: number; restoreMs: number | null } | null;
  /** Overlap signatures of the first queries of each depth (agreement check). */
  signatures: Map<number, string[]>;
  rejected: number;
}

/** A stable text form of scores, for comparing implementations. */
export function signature(scores: OverlapScores): string {
  return [...scores]
    .map((o) => `${o.workerId}#${o.dpRank}=${o.blocks}`)
    .sort()
    .join(',');
}

/** Runs one query through the kind's preferred entry point. */
export function queryRunner(kind: IndexKind, index: BenchIndex): (q: BigUint64Array) => OverlapScores {
  if (kind.useU32 && typeof index.findMatchesU32 === 'function') {
    const f = index.findMatchesU32.bind(index);
    return (q) => f(new Uint32Array(q.buffer, q.byteOffset, q.length * 2), q.length);
  }
  return (q) => index.findMatches(q);
}

/** Builds a kind's index from a fleet; returns it and the store rate. */
export function buildIndex(kind: IndexKind, fleet: Fleet, label: string): { index: BenchIndex; storeBlocksPerSec: number; rejected: number } {
  const index = kind.create();
  let ms = 0;
  let blocks = 0;
  let rejected = 0;
  const tick = ticker(`${label} ${kind.label} store`, fleet.config.workers);
  for (let w = 0; w < fleet.config.workers; w++) {
    const events = fleet.storedEvents(w);
    const t0 = process.hrtime.bigint();
    for (const e of events) {
      const r = index.apply(e);
      blocks += r.applied;
      if (r.error !== undefined) rejected++;
    }
    ms += msSince(t0);
    tick(w + 1);
  }
  return { index, storeBlocksPerSec: blocks / (ms / 1000), rejected };
}

/** Measures one kind on one fleet (the index is built, measured and dropped). */
export function measureIndex(ctx: BenchContext, kind: IndexKind, fleet: Fleet, queries: Map<number, FleetQuery[]>, label: string): IndexMeasurement {
  const slow = kind.impl !== 'ours';
  fullGc();
  const before = usedBytes();
  const built = buildIndex(kind, fleet, label);
  let index: BenchIndex | null = built.index;
  const gcOk = fullGc();
  const bytesPerEntry = gcOk ? (usedBytes() - before) / fleet.entries : null;
  const entries = index.stats?.().entries ?? fleet.entries;
  if (entries !== fleet.entries) ctx.warnings.push(`${label} ${kind.label}: holds ${entries} entries after storing, expected ${fleet.entries}`);
  if (built.rejected > 0) ctx.warnings.push(`${label} ${kind.label}: ${built.rejected} stored events rejected`);

  const run = queryRunner(kind, index);
  const latency = new Map<number, LatencyStats>();
  const signatures = new Map<number, string[]>();
  for (const [tokens, qs] of queries) {
    signatures.set(tokens, qs.slice(0, 8).map((q) => signature(run(q.hashes))));
    const opts = slow ? ctx.profile.baselineLatency : ctx.profile.latency;
    const stats = measureLatency((i) => run(qs[i % qs.length]!.hashes), opts);
    latency.set(tokens, stats);
    progress(`  ${label} ${kind.label} findMatches ${depthName(tokens)}: p50 ${stats.p50Us.toFixed(1)} µs, p99 ${stats.p99Us.toFixed(1)} µs (${stats.samples} calls)`);
  }

  let snapshot: IndexMeasurement['snapshot'] = null;
  if (typeof index.snapshot === 'function') {
    try {
      const t0 = process.hrtime.bigint();
      const bytes = index.snapshot();
      const saveMs = msSince(t0);
      let restoreMs: number | null = null;
      if (kind.restore !== undefined) {
        const t1 = process.hrtime.bigint();
        let copy: BenchIndex | null = kind.restore(bytes);
        restoreMs = msSince(t1);
        const q = queries.values().next().value?.[0];
        if (q !== undefined && signature(queryRunner(kind, copy)(q.hashes)) !== signature(run(q.hashes))) {
          ctx.warnings.push(`${label} ${kind.label}: restored snapshot answers differently`);
        }
        copy = null;
      }
      snapshot = { bytes: bytes.length, saveMs, restoreMs };
    } catch (e) {
      ctx.warnings.push(`${label} ${kind.label}: snapshot failed: ${(e as Error).message}`);
    }
  }

  let ms = 0;
  let removed = 0;
  const tick = ticker(`${label} ${kind.label} remove`, fleet.config.workers);
  for (let w = 0; w < fleet.config.workers; w++) {
    const events = fleet.removedEvents(w);
    const t0 = process.hrtime.bigint();
    for (const e of events) removed += index.apply(e).applied;
    ms += msSince(t0);
    tick(w + 1);
  }
  if (removed !== fleet.entries) ctx.warnings.push(`${label} ${kind.label}: removed ${removed} blocks, expected ${fleet.entries}`);
  const left = index.stats?.().entries;
  if (left !== undefined && left !== 0) ctx.warnings.push(`${label} ${kind.label}: ${left} entries left after removing everything`);
  index = null;
  return {
    storeBlocksPerSec: built.storeBlocksPerSec,
    removeBlocksPerSec: removed / (ms / 1000),
    bytesPerEntry,
    entries,
    latency,
    snapshot,
    signatures,
    rejected: built.rejected,
  };
}

/** Queries of each depth for a fleet. */
export function fleetQueries(ctx: BenchContext, fleet: Fleet): Map<number, FleetQuery[]> {
  const out = new Map<number, FleetQuery[]>();
  for (const tokens of ctx.profile.depthsTokens) {
    const depth = Math.max(1, Math.floor(tokens / fleet.config.blockSize));
    // Tokens are kept for pickEndpoint (router suite), which hashes them itself.
    out.set(tokens, fleet.queries(depth, ctx.profile.queriesPerDepth, true));
  }
  return out;
}

/** Runs the fleet suite for one size; returns the fleets and ours' 8k findMatches p50 for the router ratio. */
export async function runFleetSuite(ctx: BenchContext, size: FleetSize): Promise<{ fleet: Fleet; baselineFleet: Fleet; ours?: IndexMeasurement; reference?: IndexMeasurement; queries: Map<number, FleetQuery[]>; baselineQueries: Map<number, FleetQuery[]> }> {
  const hasher: Hasher = await ctx.hasher(size.blockSize);
  const label = fleetLabel(size);
  progress(`fleet ${label}: generating workload`);
  const fleet = new Fleet({ ...size, seed: 42 }, hasher);
  const slice = ctx.profile.baselineSlice;
  const sliced = slice !== null && (slice.workers < size.workers || slice.blocksPerWorker < size.blocksPerWorker);
  const baselineFleet = sliced
    ? new Fleet({ workers: Math.min(slice.workers, size.workers), blocksPerWorker: Math.min(slice.blocksPerWorker, size.blocksPerWorker), blockSize: size.blockSize, seed: 42 }, hasher)
    : fleet;
  const baseLabel = fleetLabel(baselineFleet.config);
  fleet.warm();
  const queries = fleetQueries(ctx, fleet);
  const baselineQueries = sliced ? fleetQueries(ctx, baselineFleet) : queries;
  if (sliced) baselineFleet.warm();
  for (let w = 0; w < fleet.config.workers; w++) fleet.plan(w);

  const m = new Map<Impl, IndexMeasurement>();
  for (const kind of ctx.kinds) {
    const f = kind.impl === 'ours' ? fleet : baselineFleet;
    progress(`fleet ${label}: ${kind.label} on ${fleetLabel(f.config)} (${f.entries.toLocaleString()} entries)`);
    try {
      m.set(kind.impl, measureIndex(ctx, kind, f, kind.impl === 'ours' ? queries : baselineQueries, fleetLabel(f.config)));
    } catch (e) {
      ctx.warnings.push(`${label} ${kind.label} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }

  // Agreement: every kind that ran on the reference's fleet must give the reference's overlaps.
  const ref = m.get('reference');
  if (ref !== undefined) {
    for (const [impl, meas] of m) {
      if (impl === 'reference' || (impl === 'ours' && sliced)) continue;
      for (const [tokens, sigs] of meas.signatures) {
        const want = ref.signatures.get(tokens)!;
        const bad = sigs.filter((s, i) => s !== want[i]).length;
        if (bad > 0) ctx.warnings.push(`${label}: ${impl} disagrees with the reference on ${bad} of ${sigs.length} ${depthName(tokens)} queries`);
      }
    }
  }

  const note = sliced ? `baselines measured on ${baseLabel} (cannot hold the full fleet)` : undefined;
  const skipped = ctx.missing.ours;
  const pick = (f: (x: IndexMeasurement) => number | null | undefined): Partial<Record<Impl, number>> => {
    const out: Partial<Record<Impl, number>> = {};
    for (const [impl, meas] of m) {
      const v = f(meas);
      if (v !== null && v !== undefined && Number.isFinite(v)) out[impl] = v;
    }
    return out;
  };
  const add = (name: string, unit: string, better: 'higher' | 'lower', f: (x: IndexMeasurement) => number | null | undefined, extra?: string): void => {
    const spec: Parameters<typeof ctx.results.add>[0] = { name, unit, better, values: pick(f), config: label };
    if (skipped !== undefined) spec.skipped = skipped;
    const n = [note, extra].filter((x) => x !== undefined).join('; ');
    if (n !== '') spec.note = n;
    ctx.results.add(spec);
  };
  add('index.store.blocksPerSec', 'blocks/s', 'higher', (x) => x.storeBlocksPerSec);
  add('index.remove.blocksPerSec', 'blocks/s', 'higher', (x) => x.removeBlocksPerSec);
  for (const tokens of ctx.profile.depthsTokens) {
    const d = depthName(tokens);
    add(`index.findMatches.${d}.p50Us`, 'µs', 'lower', (x) => x.latency.get(tokens)?.p50Us);
    add(`index.findMatches.${d}.p99Us`, 'µs', 'lower', (x) => x.latency.get(tokens)?.p99Us);
    add(`index.findMatches.${d}.maxUs`, 'µs', 'lower', (x) => x.latency.get(tokens)?.maxUs);
  }
  add('index.bytesPerEntry', 'bytes', 'lower', (x) => x.bytesPerEntry, 'heap + arrayBuffers after GC / (worker, block) entries');
  add('index.snapshot.bytes', 'bytes', 'lower', (x) => x.snapshot?.bytes);
  add('index.snapshot.saveMs', 'ms', 'lower', (x) => x.snapshot?.saveMs);
  add('index.snapshot.restoreMs', 'ms', 'lower', (x) => x.snapshot?.restoreMs);
  const result: Awaited<ReturnType<typeof runFleetSuite>> = { fleet, baselineFleet, queries, baselineQueries };
  const ours = m.get('ours');
  const reference = m.get('reference');
  if (ours !== undefined) result.ours = ours;
  if (reference !== undefined) result.reference = reference;
  return result;
}
