import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNTHETIC_RATE } from '../src/cli/help.js';
import { simulate, syntheticWorkload, type PolicyReport } from '../src/sim/index.js';

// Issue 6 acceptance on a reduced default workload: the CLI's default fleet and rate, fewer requests.
describe('acceptance: kv routing pays on the default workload', () => {
  it('kv beats round-robin and least-loaded on hit rate and TTFT p90, imbalance within 1.5x of least-loaded', async () => {
    const workload = syntheticWorkload({ seed: 1, requests: 2500, rate: DEFAULT_SYNTHETIC_RATE });
    const report = await simulate({ workload, seed: 1, policies: ['kv', 'round-robin', 'least-loaded'] });
    const by = (name: string): PolicyReport => report.policies.find((p) => p.policy === name)!;
    const kv = by('kv');
    const rr = by('round-robin');
    const ll = by('least-loaded');
    const line = (p: PolicyReport): string =>
      `${p.policy.padEnd(13)} hit ${(p.hitRate * 100).toFixed(1)}%  TTFT p90 ${p.ttftMs.p90.toFixed(0)} ms  imbalance ${p.loadImbalance.toFixed(2)}`;
    console.log([kv, rr, ll].map(line).join('\n'));
    expect(kv.hitRate).toBeGreaterThan(rr.hitRate);
    expect(kv.hitRate).toBeGreaterThan(ll.hitRate);
    expect(kv.ttftMs.p90).toBeLessThan(rr.ttftMs.p90);
    expect(kv.ttftMs.p90).toBeLessThan(ll.ttftMs.p90);
    expect(kv.loadImbalance).toBeLessThanOrEqual(1.5 * ll.loadImbalance);
    expect(kv.counters['eventsRejected']).toBe(0);
  }, 120_000);
});

// The same on the first 2000 requests of the Mooncake conversation trace (16 workers, 16-token
// blocks, 16,384 blocks per worker: far below the trace's working set). Slow (~10 s of CPU), so
// opt-in: KVROUTER_MOONCAKE_ACCEPTANCE=1. The full-trace table is in the simulator's note.
const TRACE = new URL('../../shared/data/mooncake_conversation_trace.jsonl', import.meta.url);
describe.skipIf(process.env['KVROUTER_MOONCAKE_ACCEPTANCE'] !== '1')('acceptance: Mooncake conversation trace (opt-in)', () => {
  it('kv beats round-robin and least-loaded on hit rate and TTFT p90, imbalance within 1.5x of least-loaded', async () => {
    const { loadMooncakeTrace } = await import('../src/sim/index.js');
    const workload = loadMooncakeTrace(TRACE.pathname, { limit: 2000 });
    const report = await simulate({ workload, workers: 16, blockSize: 16, seed: 1, policies: ['kv', 'round-robin', 'least-loaded'] });
    const [kv, rr, ll] = report.policies as [PolicyReport, PolicyReport, PolicyReport];
    expect(kv.hitRate).toBeGreaterThan(Math.max(rr.hitRate, ll.hitRate));
    expect(kv.ttftMs.p90).toBeLessThan(Math.min(rr.ttftMs.p90, ll.ttftMs.p90));
    expect(kv.loadImbalance).toBeLessThanOrEqual(1.5 * ll.loadImbalance);
  }, 300_000);
});
