/** router.pick.*: pickEndpoint (hashing included) on the fleet per prompt depth, ours vs the router over the reference index. */
import type { BenchContext } from '../lib/context.js';
import { loadCreateRouter, type BenchRouter, type IndexClass } from '../lib/modules.js';
import { depthName, fleetLabel } from '../lib/profiles.js';
import { progress } from '../lib/progress.js';
import type { Impl } from '../lib/results.js';
import { measureLatency, type LatencyStats } from '../lib/timer.js';
import type { Fleet, FleetQuery } from '../workloads/fleet.js';

/** A router holding the whole fleet (over `index`, or its own RadixIndex when undefined). */
async function fleetRouter(fleet: Fleet, index: unknown): Promise<BenchRouter> {
  const loaded = await loadCreateRouter();
  if (!loaded.ok) throw new Error(loaded.reason);
  const options = index === undefined ? undefined : { index };
  const router: BenchRouter = await (loaded.value as (c: Record<string, unknown>, o?: unknown) => Promise<BenchRouter>)({ blockSize: fleet.config.blockSize }, options);
  for (let w = 0; w < fleet.config.workers; w++) {
    router.addWorker({ workerId: fleet.workerId(w) });
    for (const e of fleet.storedEvents(w)) router.applyEvent(e);
  }
  return router;
}

/** pickEndpoint latency per depth (tokens) on one router. */
function measurePicks(ctx: BenchContext, router: BenchRouter, queries: Map<number, FleetQuery[]>, slow: boolean): Map<number, LatencyStats> {
  const out = new Map<number, LatencyStats>();
  for (const [tokens, qs] of queries) {
    const withTokens = qs.filter((q) => q.tokens !== undefined);
    if (withTokens.length === 0) continue;
    out.set(tokens, measureLatency((i) => router.pickEndpoint({ tokens: withTokens[i % withTokens.length]!.tokens! }), slow ? ctx.profile.baselineLatency : ctx.profile.latency));
  }
  return out;
}

/**
 * router.pick.{depth}.{p50Us,p99Us,maxUs} (baseline: the same router over the reference index,
 * on the baseline slice when there is one) and router.pick.{depth}.vsFindMatches (ours'
 * findMatches p50 / pick p50 at that depth, so ≥ 0.5 means pick ≤ 2× findMatches).
 */
export async function runRouterSuite(
  ctx: BenchContext,
  fleet: Fleet,
  baselineFleet: Fleet,
  queries: Map<number, FleetQuery[]>,
  baselineQueries: Map<number, FleetQuery[]>,
  oursFindMatches: Map<number, LatencyStats> | undefined,
  Reference: IndexClass | undefined,
): Promise<void> {
  const label = fleetLabel(fleet.config);
  const values: Partial<Record<Impl, Map<number, LatencyStats>>> = {};
  const loaded = await loadCreateRouter();
  let skipped: string | undefined = loaded.ok ? undefined : loaded.reason;
  if (loaded.ok && ctx.missing.ours === undefined) {
    progress(`router ${label}: pickEndpoint over RadixIndex`);
    try {
      values.ours = measurePicks(ctx, await fleetRouter(fleet, undefined), queries, false);
    } catch (e) {
      skipped = `createRouter/pickEndpoint failed: ${(e as Error).message}`;
      ctx.warnings.push(`router (ours): ${(e as Error).stack ?? String(e)}`);
    }
  } else if (loaded.ok) skipped = ctx.missing.ours;
  if (loaded.ok && Reference !== undefined) {
    progress(`router ${fleetLabel(baselineFleet.config)}: pickEndpoint over ReferenceIndex`);
    try {
      values.reference = measurePicks(ctx, await fleetRouter(baselineFleet, new Reference()), baselineQueries, true);
    } catch (e) {
      ctx.warnings.push(`router (reference index): ${(e as Error).message}`);
    }
  }
  const sliced = baselineFleet !== fleet ? `; the baseline on the ${fleetLabel(baselineFleet.config)} slice` : '';
  for (const tokens of queries.keys()) {
    const d = depthName(tokens);
    for (const key of ['p50Us', 'p99Us', 'maxUs'] as const) {
      const v: Partial<Record<Impl, number>> = {};
      const ours = values.ours?.get(tokens)?.[key];
      const reference = values.reference?.get(tokens)?.[key];
      if (ours !== undefined) v.ours = ours;
      if (reference !== undefined) v.reference = reference;
      const spec: Parameters<typeof ctx.results.add>[0] = {
        name: `router.pick.${d}.${key}`,
        unit: 'µs',
        better: 'lower',
        values: v,
        config: label,
        note: `pickEndpoint({ tokens }) of a ${d}-token prompt, hashing included; baseline: same router over the reference index${sliced}`,
      };
      if (skipped !== undefined) spec.skipped = skipped;
      ctx.results.add(spec);
    }
    const v: Partial<Record<Impl, number>> = {};
    const pick = values.ours?.get(tokens)?.p50Us;
    const find = oursFindMatches?.get(tokens)?.p50Us;
    if (pick !== undefined) v.ours = pick;
    if (find !== undefined) v.findMatches = find;
    const spec: Parameters<typeof ctx.results.add>[0] = {
      name: `router.pick.${d}.vsFindMatches`,
      unit: 'µs',
      better: 'lower',
      values: v,
      baselineImpl: 'findMatches',
      config: label,
      note: 'value: pick p50; baseline: findMatches p50 alone (same run, same queries); ratio ≥ 0.5 means pick costs ≤ 2× findMatches',
    };
    if (skipped !== undefined) spec.skipped = skipped;
    ctx.results.add(spec);
  }
}
