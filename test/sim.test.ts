import { describe, expect, it } from 'vitest';
import {
  idealHitRate,
  parseMooncakeTrace,
  simulate,
  syntheticWorkload,
  TraceFormatError,
  withoutWallTime,
  type SimReport,
} from '../src/sim/index.js';

const TRACE = [
  '{"timestamp": 0, "input_length": 1100, "output_length": 10, "hash_ids": [0, 1, 2]}',
  '{"timestamp": 5, "input_length": 1500, "output_length": 20, "hash_ids": [0, 1, 3]}',
  '',
  '{"timestamp": 2, "input_length": 600, "output_length": 0, "hash_ids": [0, 4]}',
].join('\n');

describe('Mooncake loader', () => {
  it('sorts by time and expands hash ids so prompts share exactly their common leading ids', () => {
    const w = parseMooncakeTrace(TRACE);
    expect(w.requests.map((r) => r.arrivalMs)).toEqual([0, 2, 5]);
    expect(w.requests.map((r) => r.promptLength)).toEqual([1100, 600, 1500]);
    expect(w.requests[1]!.outputLength).toBe(1); // at least one generated token
    const a = w.promptTokens(w.requests[0]!);
    const c = w.promptTokens(w.requests[2]!);
    expect(a.length).toBe(1100);
    let common = 0;
    while (common < a.length && a[common] === c[common]) common++;
    // ids [0, 1] shared = 1024 tokens; the third id differs (a chance equal token or two is possible).
    expect(common).toBeGreaterThanOrEqual(1024);
    expect(common).toBeLessThan(1024 + 4);
    expect(w.promptTokens(w.requests[0]!)).toEqual(a); // deterministic
  });

  it('rescales arrivals by --speedup or to a --rate', () => {
    expect(parseMooncakeTrace(TRACE, { speedup: 2 }).requests.map((r) => r.arrivalMs)).toEqual([0, 1, 2.5]);
    const w = parseMooncakeTrace(TRACE, { rate: 100 }); // 3 requests at 100/s: 20 ms span
    expect(w.requests[2]!.arrivalMs).toBeCloseTo(20, 9);
    expect(parseMooncakeTrace(TRACE, { limit: 2 }).requests.length).toBe(2);
  });

  it('names the line of a bad record', () => {
    expect(() => parseMooncakeTrace('{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [0]}\nnot json')).toThrow(
      new TraceFormatError('line 2: not JSON'),
    );
    expect(() => parseMooncakeTrace('{"timestamp": 0, "input_length": 2000, "output_length": 1, "hash_ids": [0]}')).toThrow(/line 1: 1 hash_ids cover fewer/);
    expect(() => parseMooncakeTrace('{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [-1]}')).toThrow(/line 1: hash_ids/);
    expect(() => parseMooncakeTrace('\n\n')).toThrow(/no requests/);
  });
});

describe('synthetic workload', () => {
  it('is a pure function of its seed', () => {
    const a = syntheticWorkload({ seed: 7, requests: 300 });
    const b = syntheticWorkload({ seed: 7, requests: 300 });
    const c = syntheticWorkload({ seed: 8, requests: 300 });
    expect(a.requests).toEqual(b.requests);
    expect(a.promptTokens(a.requests[123]!)).toEqual(b.promptTokens(b.requests[123]!));
    expect(c.requests).not.toEqual(a.requests);
  });

  it('builds later turns on earlier turns and their replies, at the requested rate', () => {
    const w = syntheticWorkload({ seed: 3, requests: 2000, rate: 50 });
    const span = w.requests[w.requests.length - 1]!.arrivalMs / 1000;
    expect(w.requests.length / span).toBeGreaterThan(40);
    expect(w.requests.length / span).toBeLessThan(60);
    type Turn = { conversation: number; turn: number };
    const byConv = new Map<number, Array<(typeof w.requests)[number] & Turn>>();
    for (const r of w.requests as Array<(typeof w.requests)[number] & Turn>) {
      const list = byConv.get(r.conversation) ?? [];
      list.push(r);
      byConv.set(r.conversation, list);
    }
    let checked = 0;
    for (const turns of byConv.values()) {
      turns.sort((x, y) => x.turn - y.turn);
      for (let i = 1; i < turns.length; i++) {
        const prev = turns[i - 1]!;
        const cur = turns[i]!;
        if (cur.turn !== prev.turn + 1) continue;
        const history = [...w.promptTokens(prev), ...w.outputTokens(prev)];
        expect(Array.from(w.promptTokens(cur).subarray(0, history.length))).toEqual(history);
        checked++;
      }
      if (checked > 50) break;
    }
    expect(checked).toBeGreaterThan(10);
    // The ideal hit rate is high: shared system prompts and conversation history.
    expect(idealHitRate(w, 16)).toBeGreaterThan(0.6);
  });
});

describe('simulate', () => {
  const small = { workers: 4, capacityBlocks: 2048, seed: 5 } as const;

  it('reports every policy with sane figures', async () => {
    const workload = syntheticWorkload({ seed: 5, requests: 400, rate: 30 });
    const report = await simulate({ workload, ...small, policies: ['kv', 'round-robin', 'least-loaded', 'random', 'approx'] });
    expect(report.policies.map((p) => p.policy)).toEqual(['kv', 'round-robin', 'least-loaded', 'random', 'approx']);
    for (const p of report.policies) {
      expect(p.completed + p.rejected).toBe(400);
      expect(p.hitRate).toBeGreaterThan(0);
      expect(p.hitRate).toBeLessThanOrEqual(report.idealHitRate + 1e-9);
      expect(p.ttftMs.p50).toBeLessThanOrEqual(p.ttftMs.p90);
      expect(p.ttftMs.p90).toBeLessThanOrEqual(p.ttftMs.p99);
      expect(p.e2eMs.p50).toBeGreaterThanOrEqual(p.ttftMs.p50);
      expect(p.loadImbalance).toBeGreaterThanOrEqual(1);
      expect(p.ttftPercentilesMs).toHaveLength(101);
      expect(p.series.timeS).toHaveLength(120);
      expect(p.ttftHistogram.reduce((a, b) => a + b, 0)).toBe(p.completed);
      expect(p.prefillTokensSaved).toBeLessThan(p.promptTokens);
    }
    const kv = report.policies[0]!;
    expect(kv.counters['eventsApplied']).toBeGreaterThan(0);
    expect(kv.counters['eventsRejected']).toBe(0);
    expect(kv.counters['pickFailures']).toBe(0);
  });

  it('is reproducible by seed (everything but wall time)', async () => {
    const run = async (seed: number): Promise<SimReport> =>
      simulate({ workload: syntheticWorkload({ seed, requests: 200, rate: 30 }), ...small, seed, policies: ['kv', 'random', 'approx'] });
    const a = await run(11);
    const b = await run(11);
    expect(withoutWallTime(a)).toEqual(withoutWallTime(b));
    const c = await run(12);
    expect(withoutWallTime(c)).not.toEqual(withoutWallTime(a));
  });

  it('rejects bad options with a clear message', async () => {
    const workload = syntheticWorkload({ requests: 10 });
    await expect(simulate({ workload, workers: 0 })).rejects.toThrow(/workers must be a positive integer, got 0/);
    await expect(simulate({ workload, policies: ['nope' as never] })).rejects.toThrow(/unknown policy "nope"/);
    await expect(simulate({ workload, blockSize: 2.5 })).rejects.toThrow(/blockSize/);
  });

  it('drops requests that can never fit an engine and says so', async () => {
    const workload = parseMooncakeTrace('{"timestamp": 0, "input_length": 5000, "output_length": 5, "hash_ids": [0,1,2,3,4,5,6,7,8,9]}');
    const report = await simulate({ workload, workers: 2, capacityBlocks: 100, policies: ['round-robin'] });
    expect(report.policies[0]!.rejected).toBe(1);
    expect(report.policies[0]!.completed).toBe(0);
  });
});
