/** events.vllm.decodeApply.blocksPerSec: raw vLLM msgpack batches → decodeEvents → apply. */
import type { BenchIndex, IndexKind } from '../baselines/types.js';
import type { BenchContext } from '../lib/context.js';
import { loadEvents } from '../lib/modules.js';
import { fleetLabel } from '../lib/profiles.js';
import { progress } from '../lib/progress.js';
import type { Impl } from '../lib/results.js';
import { msSince } from '../lib/timer.js';
import type { Fleet } from '../workloads/fleet.js';

/** Encodes fleet workers' stored chains as one vLLM batch each (positional, u64 hashes) and times decode + apply. */
export async function runEventsSuite(ctx: BenchContext, fleet: Fleet): Promise<void> {
  const label = fleetLabel(fleet.config);
  const loaded = await loadEvents();
  const name = 'events.vllm.decodeApply.blocksPerSec';
  if (!loaded.ok) {
    ctx.results.add({ name, unit: 'blocks/s', better: 'higher', values: {}, config: label, skipped: loaded.reason });
    return;
  }
  const { decodeEvents, encodeVllmBatch } = loaded.value;
  const hasher = await ctx.hasher(fleet.config.blockSize);
  progress(`events ${label}: encoding vLLM batches`);
  const batches: Array<{ workerId: string; bytes: Uint8Array; blocks: number }> = [];
  let blocks = 0;
  for (let w = 0; w < fleet.config.workers && blocks < ctx.profile.eventsBlocks; w++) {
    const workerId = fleet.workerId(w);
    for (const c of fleet.engineStored(w)) {
      const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: c.blockHashes, parentBlockHash: c.parentBlockHash, tokenIds: c.tokenIds }], {
        style: 'positional',
        engineBlockSize: fleet.config.blockSize,
        dpRank: 0,
        ts: 1,
      });
      batches.push({ workerId, bytes, blocks: c.blockHashes.length });
      blocks += c.blockHashes.length;
    }
  }
  const values: Partial<Record<Impl, number>> = {};
  const kinds = ctx.kinds.filter((k) => k.impl === 'ours' || k.impl === 'reference');
  for (const kind of kinds as IndexKind[]) {
    const index: BenchIndex = kind.create();
    let applied = 0;
    let failed = 0;
    const t0 = process.hrtime.bigint();
    for (const b of batches) {
      const r = decodeEvents(b.bytes, { format: 'vllm', workerId: b.workerId, hasher }) as { ok: boolean; events?: import('../../src/radix/types.js').KvEvent[] };
      if (!r.ok || r.events === undefined) {
        failed++;
        continue;
      }
      for (const e of r.events) applied += index.apply(e).applied;
    }
    const ms = msSince(t0);
    if (failed > 0 || applied !== blocks) ctx.warnings.push(`events ${kind.label}: ${failed} batches failed to decode, ${applied}/${blocks} blocks applied`);
    values[kind.impl] = applied / (ms / 1000);
    progress(`  events ${kind.label}: ${Math.round(values[kind.impl]!).toLocaleString()} blocks/s (${batches.length} batches)`);
  }
  const spec: Parameters<typeof ctx.results.add>[0] = {
    name,
    unit: 'blocks/s',
    better: 'higher',
    values,
    config: `${label}, ${blocks} blocks in ${batches.length} batches`,
    note: 'decodeEvents (token_ids hashed by the router hasher) + apply; baseline: same decode + apply into the reference',
  };
  if (ctx.missing.ours !== undefined) spec.skipped = ctx.missing.ours;
  ctx.results.add(spec);
}
