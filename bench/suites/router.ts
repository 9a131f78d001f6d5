/** router.pick.8k: pickEndpoint (hashing included) on the fleet, ours vs the router over the reference index. */
import type { BenchContext } from '../lib/context.js';
import { loadCreateRouter, type BenchRouter, type IndexClass } from '../lib/modules.js';
import { fleetLabel } from '../lib/profiles.js';
import { progress } from '../lib/progress.js';
import type { Impl } from '../lib/results.js';
import { measureLatency, type LatencyStats } from '../lib/timer.js';
import type { Fleet, FleetQuery } from '../workloads/fleet.js';

async function measurePick(ctx: BenchContext, fleet: Fleet, queries: FleetQuery[], index: unknown, slow: boolean): Promise<LatencyStats> {
  const loaded = await loadCreateRouter();
  if (!loaded.ok) throw new Error(loaded.reason);
  const options = index === undefined ? undefined : { index };
  const router: BenchRouter = await (loaded.value as (c: Record<string, unknown>, o?: unknown) => Promise<BenchRouter>)({ blockSize: fleet.config.blockSize }, options);
  for (let w = 0; w < fleet.config.workers; w++) {
    router.addWorker({ workerId: fleet.workerId(w) });
    for (const e of fleet.storedEvents(w)) router.applyEvent(e);
  }
  const withTokens = queries.filter((q) => q.tokens !== undefined);
  return measureLatency((i) => router.pickEndpoint({ tokens: withTokens[i % withTokens.length]!.tokens! }), slow ? ctx.profile.baselineLatency : ctx.profile.latency);
}

/**
 * router.pick.8k.{p50Us,p99Us} (baseline: the same router over the reference index) and
 * router.pick.8k.vsFindMatches (ours' findMatches p50 / pick p50, so ≥ 0.5 means pick ≤ 2× findMatches).
 */
export async function runRouterSuite(
  ctx: BenchContext,
  fleet: Fleet,
  baselineFleet: Fleet,
  queries: FleetQuery[],
  baselineQueries: FleetQuery[],
  oursFindMatchesP50: number | undefined,
  Reference: IndexClass | undefined,
): Promise<void> {
  const label = fleetLabel(fleet.config);
  const values: Partial<Record<Impl, LatencyStats>> = {};
  const loaded = await loadCreateRouter();
  let skipped: string | undefined = loaded.ok ? undefined : loaded.reason;
  if (loaded.ok && ctx.missing.ours === undefined) {
    progress(`router ${label}: pickEndpoint 8k over RadixIndex`);
    try {
      values.ours = await measurePick(ctx, fleet, queries, undefined, false);
    } catch (e) {
      skipped = `createRouter/pickEndpoint failed: ${(e as Error).message}`;
      ctx.warnings.push(`router (ours): ${(e as Error).stack ?? String(e)}`);
    }
  } else if (loaded.ok) skipped = ctx.missing.ours;
  if (loaded.ok && Reference !== undefined) {
    progress(`router ${fleetLabel(baselineFleet.config)}: pickEndpoint 8k over ReferenceIndex`);
    try {
      values.reference = await measurePick(ctx, baselineFleet, baselineQueries, new Reference(), true);
    } catch (e) {
      ctx.warnings.push(`router (reference index): ${(e as Error).message}`);
    }
  }
  for (const [name, key] of [
    ['router.pick.8k.p50Us', 'p50Us'],
    ['router.pick.8k.p99Us', 'p99Us'],
  ] as const) {
    const v: Partial<Record<Impl, number>> = {};
    if (values.ours) v.ours = values.ours[key];
    if (values.reference) v.reference = values.reference[key];
    const spec: Parameters<typeof ctx.results.add>[0] = { name, unit: 'µs', better: 'lower', values: v, config: label, note: 'pickEndpoint({ tokens }) of an 8K-token prompt, hashing included; baseline: same router over the reference index' };
    if (skipped !== undefined) spec.skipped = skipped;
    ctx.results.add(spec);
  }
  const v: Partial<Record<Impl, number>> = {};
  if (values.ours) v.ours = values.ours.p50Us;
  if (oursFindMatchesP50 !== undefined) v.findMatches = oursFindMatchesP50;
  const spec: Parameters<typeof ctx.results.add>[0] = {
    name: 'router.pick.8k.vsFindMatches',
    unit: 'µs',
    better: 'lower',
    values: v,
    baselineImpl: 'findMatches',
    config: label,
    note: 'value: pick p50; baseline: findMatches p50 alone (same run); ratio ≥ 0.5 means pick costs ≤ 2× findMatches',
  };
  if (skipped !== undefined) spec.skipped = skipped;
  ctx.results.add(spec);
}
