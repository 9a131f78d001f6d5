import { describe, expect, it } from 'vitest';
import type { IngestTarget } from '../src/events/types.js';
import { createHasher } from '../src/hashing/index.js';
import { RadixIndex } from '../src/radix/index.js';
import {
  createRouter,
  RouterConfigError,
  RouterConfigSchema,
  type PickResult,
  type PickSuccess,
  type RouterIndex,
} from '../src/scoring/index.js';
import { fakeClock, newIndex, prompt, seeded, storedEvent } from './router-helpers.js';

function picked(r: PickResult): PickSuccess {
  if (!r.ok) throw new Error(`expected a pick, got ${r.reason}: ${r.message}`);
  return r;
}

/** DESIGN §6: three workers holding 2, 5 and 8 blocks of a 10-block prompt. */
async function workedExample(config: Parameters<typeof createRouter>[0] = {}) {
  const clock = fakeClock();
  const router = await createRouter({ now: clock.now, random: seeded(1), ...config }, { index: newIndex() });
  const tokens = prompt(160);
  for (const [w, blocks, active] of [['w1', 2, 2], ['w2', 5, 0], ['w3', 8, 7]] as const) {
    router.addWorker({ workerId: w });
    router.applyEvent(await storedEvent(w, tokens, blocks));
    // Active blocks pushed by the worker; the request adds (prompt − overlap) blocks on top:
    // decode = 2 + 8 = 10, 0 + 5 = 5, 7 + 2 = 9 as in the example.
    router.updateLoad(w, 0, { activeDecodeBlocks: active, activePrefillTokens: 0 });
  }
  return { router, tokens, clock };
}

describe('pickEndpoint, policy cost', () => {
  it('DESIGN §6 worked example: w1 18, w2 10, w3 11 → w2 wins at cost 10', async () => {
    const { router, tokens } = await workedExample();
    const r = picked(router.pickEndpoint({ tokens }));
    expect(r.workerId).toBe('w2');
    expect(r.cost).toBe(10);
    expect(r.overlapBlocks).toBe(5);
    expect(r.promptBlocks).toBe(10);
    const byId = Object.fromEntries(r.candidates.map((c) => [c.workerId, c]));
    expect(byId.w1).toMatchObject({ overlapBlocks: 2, prefillBlocks: 8, decodeBlocks: 10, cost: 18, probability: 0 });
    expect(byId.w2).toMatchObject({ overlapBlocks: 5, prefillBlocks: 5, decodeBlocks: 5, cost: 10, probability: 1 });
    expect(byId.w3).toMatchObject({ overlapBlocks: 8, prefillBlocks: 2, decodeBlocks: 9, cost: 11, probability: 0 });
    expect(byId.w3!.tiers).toEqual({ device: 8, host: 0, disk: 0 });
    expect(byId.w2!.score).toBe(1);
    expect(byId.w1!.score).toBe(0);
  });

  it('credits host and disk blocks with their weights', async () => {
    const router = await createRouter({ random: seeded(1) }, { index: newIndex() });
    const tokens = prompt(160);
    router.applyEvent(await storedEvent('h', tokens, 8, { tier: 'host' }));
    router.applyEvent(await storedEvent('d', tokens, 8, { tier: 'disk' }));
    const r = picked(router.pickEndpoint({ tokens }));
    const byId = Object.fromEntries(r.candidates.map((c) => [c.workerId, c]));
    expect(byId.h!.tiers).toEqual({ device: 0, host: 8, disk: 0 });
    expect(byId.h!.prefillBlocks).toBe(10 - 0.75 * 8);
    expect(byId.d!.prefillBlocks).toBe(10 - 0.25 * 8);
    expect(r.workerId).toBe('h');
  });

  it('breaks exact ties fairly (seeded, many picks)', async () => {
    const router = await createRouter({ random: seeded(99) }, { index: newIndex() });
    for (const w of ['a', 'b', 'c', 'd']) router.addWorker({ workerId: w });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    const draws = 8_000;
    const tokens = prompt(64);
    for (let i = 0; i < draws; i++) counts[picked(router.pickEndpoint({ tokens })).workerId]!++;
    const chi = Object.values(counts).reduce((x, c) => x + (c - draws / 4) ** 2 / (draws / 4), 0);
    expect(chi).toBeLessThan(16.27); // chi-square, 3 dof, 99.9th percentile
  });

  it('samples with the normalized softmax at temperature > 0', async () => {
    const T = 0.5;
    const { router, tokens } = await workedExample({ temperature: T, random: seeded(5) });
    const first = picked(router.pickEndpoint({ tokens }));
    const expected: Record<string, number> = {};
    const raw = { w1: Math.exp(-(18 - 10) / (8 * T)), w2: 1, w3: Math.exp(-(11 - 10) / (8 * T)) };
    const sum = raw.w1 + raw.w2 + raw.w3;
    for (const [w, v] of Object.entries(raw)) expected[w] = v / sum;
    for (const c of first.candidates) expect(c.probability).toBeCloseTo(expected[c.workerId]!, 12);
    const counts: Record<string, number> = { w1: 0, w2: 0, w3: 0 };
    const draws = 6_000;
    for (let i = 0; i < draws; i++) counts[picked(router.pickEndpoint({ tokens })).workerId]!++;
    const chi = Object.keys(counts).reduce((x, w) => x + (counts[w]! - draws * expected[w]!) ** 2 / (draws * expected[w]!), 0);
    expect(chi).toBeLessThan(13.82); // 2 dof, 99.9th percentile
  });
});

describe('results', () => {
  // Snapshots of the candidates share 64 KB blocks (8,192 numbers) across picks; a kept result
  // must read its own pick, not a later one, and one past 64 KB gets its own storage.
  it('a kept result reads its own candidates after many later picks', async () => {
    // Twin routers fed the same: one's results are read right after each pick, the other's only
    // after all 40 picks (by then its snapshot blocks have been reused many times over).
    const workers = 300; // 1,200 numbers a snapshot: a shared block holds 6
    const build = async () => {
      const router = await createRouter({ random: seeded(3) }, { index: newIndex() });
      for (let w = 0; w < workers; w++) {
        router.addWorker({ workerId: `w${w}` });
        if (w % 7 === 0) router.applyEvent(await storedEvent(`w${w}`, prompt(160), 1 + (w % 10)));
      }
      return router;
    };
    const [eager, late] = [await build(), await build()];
    const promptOf = (k: number) => prompt(160 + 16 * (k % 5), 1 + (k % 2) * 50_000);
    const expected: string[] = [];
    const kept: PickSuccess[] = [];
    for (let k = 0; k < 40; k++) {
      expected.push(JSON.stringify(picked(eager.pickEndpoint({ tokens: promptOf(k), requestId: `r${k}` })).candidates));
      kept.push(picked(late.pickEndpoint({ tokens: promptOf(k), requestId: `r${k}` })));
    }
    for (let k = 0; k < 40; k++) {
      const r = kept[k]!;
      expect(JSON.stringify(r.candidates)).toBe(expected[k]);
      expect(r.candidates).toHaveLength(workers);
      const chosen = r.candidates.find((c) => c.workerId === r.workerId)!;
      expect(chosen.cost).toBe(r.cost);
      expect(chosen.overlapBlocks).toBe(r.overlapBlocks);
    }
    // The picks differ (load and prompts change), so equal strings are not trivially equal.
    expect(new Set(expected).size).toBeGreaterThan(10);
  });

  it('picks among thousands of candidates (snapshot past 64 KB)', async () => {
    const router = await createRouter({ random: seeded(5) }, { index: newIndex() });
    const workers = 2_500; // 10,000 numbers a snapshot
    const tokens = prompt(160);
    for (let w = 0; w < workers; w++) router.addWorker({ workerId: `w${w}` });
    router.applyEvent(await storedEvent('w1234', tokens, 10));
    const first = picked(router.pickEndpoint({ tokens }));
    const second = picked(router.pickEndpoint({ tokens: prompt(160, 9_000) }));
    expect(first.workerId).toBe('w1234');
    expect(first.overlapBlocks).toBe(10);
    expect(first.candidates).toHaveLength(workers);
    expect(first.candidates.filter((c) => c.overlapBlocks > 0).map((c) => c.workerId)).toEqual(['w1234']);
    expect(second.overlapBlocks).toBe(0);
    expect(second.candidates.every((c) => c.overlapBlocks === 0)).toBe(true);
  });
});

describe('predicted load', () => {
  it('a burst of identical prompts spreads once load outweighs the cache', async () => {
    const tokens = prompt(160); // 10 blocks; 'hot' holds the first 8
    const make = async () => {
      const router = await createRouter({ random: seeded(3) }, { index: newIndex() });
      for (const w of ['hot', 'x', 'y', 'z']) router.addWorker({ workerId: w });
      router.applyEvent(await storedEvent('hot', tokens, 8));
      return router;
    };
    // Without request ids the router sees no load: everything piles onto the cached worker.
    const blind = await make();
    for (let i = 0; i < 12; i++) expect(picked(blind.pickEndpoint({ tokens })).workerId).toBe('hot');

    // With ids each request adds its uncached prefill (2 blocks) to 'hot'; its 10 blocks count once.
    const router = await make();
    const order: string[] = [];
    for (let i = 0; i < 12; i++) order.push(picked(router.pickEndpoint({ tokens, requestId: `r${i}` })).workerId);
    // hot costs 4, then 16, 18, 20, 22, …; an idle worker costs 10 + 10 = 20, then 40 once it has one.
    expect(order.slice(0, 3)).toEqual(['hot', 'hot', 'hot']);
    for (const w of ['x', 'y', 'z']) expect(order).toContain(w);
    expect(order.filter((w) => w !== 'hot')).toHaveLength(3);
    expect(router.activeRequests).toBe(12);

    // Prefill done everywhere: 'hot' is cheap again.
    for (let i = 0; i < 12; i++) expect(router.markPrefillComplete(`r${i}`)).toBe(true);
    expect(picked(router.pickEndpoint({ tokens })).workerId).toBe('hot');
    for (let i = 0; i < 12; i++) expect(router.free(`r${i}`)).toBe(true);
    expect(router.activeRequests).toBe(0);
    const r = picked(router.pickEndpoint({ tokens }));
    const hot = r.candidates.find((c) => c.workerId === 'hot')!;
    expect(hot.decodeBlocks).toBe(2); // nothing active left: only the request's own 2 new blocks
  });

  it('counts blocks shared by active requests once, releases them on free', async () => {
    const router = await createRouter({ random: seeded(3) }, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    const shared = prompt(128); // 8 blocks
    const a = [...shared, ...prompt(32, 10_000)]; // + 2 private blocks
    const b = [...shared, ...prompt(32, 20_000)];
    router.pickEndpoint({ tokens: a, requestId: 'a' });
    router.pickEndpoint({ tokens: b, requestId: 'b' });
    const probe = picked(router.pickEndpoint({ tokens: prompt(16, 99_999) }));
    // 8 shared + 2 + 2 private active, plus the probe's own 1 block.
    expect(probe.candidates[0]!.decodeBlocks).toBe(12 + 1);
    expect(probe.candidates[0]!.prefillBlocks).toBe((160 + 160 + 16) / 16);
    router.free('a');
    expect(picked(router.pickEndpoint({ tokens: prompt(16, 99_999) })).candidates[0]!.decodeBlocks).toBe(10 + 1);
  });

  it('unknown and duplicate request ids are no-ops, counted', async () => {
    const router = await createRouter({}, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    const tokens = prompt(64);
    router.pickEndpoint({ tokens, requestId: 'r' });
    router.pickEndpoint({ tokens, requestId: 'r' });
    expect(router.activeRequests).toBe(1);
    expect(router.free('nope')).toBe(false);
    expect(router.markPrefillComplete('nope')).toBe(false);
    expect(router.free('r')).toBe(true);
    expect(router.free('r')).toBe(false);
    const text = router.metrics();
    expect(text).toContain('kvrouter_request_id_anomalies_total{kind="duplicate"} 1');
    expect(text).toContain('kvrouter_request_id_anomalies_total{kind="unknown_free"} 2');
    expect(text).toContain('kvrouter_request_id_anomalies_total{kind="unknown_prefill_complete"} 1');
  });

  it('expires requests never freed', async () => {
    const clock = fakeClock();
    const router = await createRouter({ now: clock.now, requestExpiryMs: 60_000 }, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    router.pickEndpoint({ tokens: prompt(64), requestId: 'old' });
    clock.advance(30_000);
    router.pickEndpoint({ tokens: prompt(64, 500), requestId: 'young' });
    clock.advance(30_001);
    expect(router.free('old')).toBe(false);
    expect(router.activeRequests).toBe(1);
    expect(router.metrics()).toContain('kvrouter_requests_expired_total 1');
    const r = picked(router.pickEndpoint({ tokens: prompt(16, 9_000) }));
    expect(r.candidates[0]!.decodeBlocks).toBe(4 + 1); // only 'young' (4 blocks) is left
  });
});

describe('pushed metrics', () => {
  it('uses fresh metrics and ignores stale ones', async () => {
    const clock = fakeClock();
    const router = await createRouter({ now: clock.now, metricsStalenessMs: 5_000, random: seeded(1) }, { index: newIndex() });
    router.addWorker({ workerId: 'a' });
    router.addWorker({ workerId: 'b' });
    router.updateLoad('a', 0, { activePrefillTokens: 1_600, kvActiveBlocks: 50 });
    const tokens = prompt(32);
    const fresh = picked(router.pickEndpoint({ tokens }));
    expect(fresh.workerId).toBe('b');
    expect(fresh.candidates.find((c) => c.workerId === 'a')).toMatchObject({ prefillBlocks: 102, decodeBlocks: 52 });
    clock.advance(5_001);
    expect(router.metrics()).toContain('kvrouter_stale_workers 1');
    const stale = picked(router.pickEndpoint({ tokens }));
    const a = stale.candidates.find((c) => c.workerId === 'a')!;
    expect(a).toMatchObject({ prefillBlocks: 2, decodeBlocks: 2 });
  });

  it('validates metrics', async () => {
    const router = await createRouter({}, { index: newIndex() });
    router.addWorker({ workerId: 'a' });
    expect(() => router.updateLoad('a', 0, { kvActiveBlocks: -1 })).toThrow(RangeError);
    expect(() => router.updateLoad('a', 0, { gpuCacheUsagePerc: 1.5 })).toThrow(/gpuCacheUsagePerc/);
    expect(() => router.updateLoad('a', 0, { numRequestsWaiting: '3' as unknown as number })).toThrow(TypeError);
    expect(() => router.updateLoad('a', -1, {})).toThrow(RangeError);
    expect(() => router.updateLoad('', 0, {})).toThrow(TypeError);
  });
});

describe('busy thresholds', () => {
  it('skips busy workers and answers ALL_BUSY (529) when every worker is busy', async () => {
    const router = await createRouter({ busyThresholds: { prefillTokens: 1_000, decodeBlocksFraction: 0.9 } }, { index: newIndex() });
    router.addWorker({ workerId: 'a' });
    router.addWorker({ workerId: 'b' });
    router.updateLoad('a', 0, { activePrefillTokens: 5_000 });
    const tokens = prompt(32);
    const r = picked(router.pickEndpoint({ tokens }));
    expect(r.workerId).toBe('b');
    expect(r.candidates.find((c) => c.workerId === 'a')).toMatchObject({ busy: true, probability: 0, score: 0 });
    router.updateLoad('b', 0, { kvActiveBlocks: 95, kvTotalBlocks: 100 });
    const full = router.pickEndpoint({ tokens });
    expect(full).toMatchObject({ ok: false, reason: 'ALL_BUSY', status: 529 });
    expect(router.scoreEndpoints({ tokens }).every((s) => s.busy && s.score === 0)).toBe(true);
    expect(router.metrics()).toContain('kvrouter_picks_total{outcome="all_busy"} 1');
  });
});

describe('candidates', () => {
  it('restricts the pick to the subset and reports unknown ones', async () => {
    const { router, tokens } = await workedExample();
    for (let i = 0; i < 50; i++) {
      const r = picked(router.pickEndpoint({ tokens, candidates: ['w1', { workerId: 'w3' }, 'ghost', { workerId: 'w2', dpRank: 4 }] }));
      expect(r.workerId).toBe('w3'); // w2 (the global best) is not a candidate at rank 0
      expect(r.candidates.map((c) => c.workerId).sort()).toEqual(['w1', 'w3']);
      expect(r.unknownCandidates).toEqual(['ghost', { workerId: 'w2', dpRank: 4 }]);
    }
    const none = router.pickEndpoint({ tokens, candidates: ['ghost'] });
    expect(none).toMatchObject({ ok: false, reason: 'NO_KNOWN_CANDIDATES', status: 503, unknownCandidates: ['ghost'] });
  });

  it('answers NO_WORKERS (503) with no workers', async () => {
    const router = await createRouter({}, { index: newIndex() });
    expect(router.pickEndpoint({ tokens: prompt(32) })).toMatchObject({ ok: false, reason: 'NO_WORKERS', status: 503 });
  });

  it('picks among data-parallel ranks', async () => {
    const router = await createRouter({ random: seeded(2) }, { index: newIndex() });
    router.addWorker({ workerId: 'dp', dpRanks: [0, 1, 2] });
    const tokens = prompt(64);
    router.applyEvent(await storedEvent('dp', tokens, 4, { dpRank: 2 }));
    const r = picked(router.pickEndpoint({ tokens, candidates: ['dp'] }));
    expect(r).toMatchObject({ workerId: 'dp', dpRank: 2, overlapBlocks: 4 });
    expect(r.candidates).toHaveLength(3);
  });
});

describe('disaggregated serving', () => {
  it('prefill requests go to prefill workers by cost; decode requests to decode workers on load only', async () => {
    const router = await createRouter({ random: seeded(4) }, { index: newIndex() });
    router.addWorker({ workerId: 'p1', role: 'prefill' });
    router.addWorker({ workerId: 'p2', role: 'prefill' });
    router.addWorker({ workerId: 'd1', role: 'decode' });
    router.addWorker({ workerId: 'd2', role: 'decode' });
    const tokens = prompt(160);
    router.applyEvent(await storedEvent('p2', tokens, 10));
    router.applyEvent(await storedEvent('d1', tokens, 10));
    router.updateLoad('d1', 0, { activeDecodeBlocks: 3 });
    const pre = picked(router.pickEndpoint({ tokens, role: 'prefill' }));
    expect(pre.workerId).toBe('p2');
    expect(pre.candidates.map((c) => c.workerId).sort()).toEqual(['p1', 'p2']);
    const dec = picked(router.pickEndpoint({ tokens, role: 'decode' }));
    // d1 holds the prompt but decode picks ignore overlap (no credit, all blocks new): its 3 active blocks lose.
    expect(dec.workerId).toBe('d2');
    expect(dec.candidates.find((c) => c.workerId === 'd1')).toMatchObject({ overlapBlocks: 10, prefillBlocks: 10, decodeBlocks: 13 });
    expect(router.pickEndpoint({ tokens })).toMatchObject({ ok: false, reason: 'NO_WORKER_FOR_ROLE', status: 503 });
  });
});

describe('approximate mode', () => {
  it('records routed prompts on the chosen worker until the TTL expires', async () => {
    const clock = fakeClock();
    const router = await createRouter({ kvEvents: false, approximateTtlMs: 120_000, now: clock.now, random: seeded(8) }, { index: newIndex() });
    for (const w of ['a', 'b', 'c']) router.addWorker({ workerId: w });
    const tokens = prompt(160);
    const first = picked(router.pickEndpoint({ tokens }));
    expect(first.overlapBlocks).toBe(0);
    clock.advance(60_000);
    const second = picked(router.pickEndpoint({ tokens }));
    expect(second.workerId).toBe(first.workerId);
    expect(second.overlapBlocks).toBe(10);
    // A prompt sharing the first 6 blocks matches 6 on that worker.
    const sibling = [...tokens.slice(0, 96), ...prompt(64, 50_000)];
    expect(picked(router.pickEndpoint({ tokens: sibling })).overlapBlocks).toBe(6);
    clock.advance(120_001);
    const after = picked(router.pickEndpoint({ tokens: prompt(160, 70_000) }));
    expect(after.candidates.every((c) => c.overlapBlocks === 0)).toBe(true);
    // The last recording of `tokens` was at t = 60 s: expired at 180 s.
    const expired = picked(router.pickEndpoint({ tokens }));
    expect(expired.overlapBlocks).toBe(0);
  });

  it('can be set per worker; exact workers use events only', async () => {
    const router = await createRouter({ random: seeded(2) }, { index: newIndex() });
    router.addWorker({ workerId: 'exact' });
    router.addWorker({ workerId: 'approx', kvEvents: false });
    const tokens = prompt(64);
    const counts: Record<string, number> = { exact: 0, approx: 0 };
    for (let i = 0; i < 6; i++) counts[picked(router.pickEndpoint({ tokens, candidates: [i % 2 ? 'exact' : 'approx'] })).workerId]!++;
    const r = picked(router.pickEndpoint({ tokens }));
    expect(r.workerId).toBe('approx');
    expect(r.candidates.find((c) => c.workerId === 'exact')!.overlapBlocks).toBe(0);
    expect(r.candidates.find((c) => c.workerId === 'approx')!.overlapBlocks).toBe(4);
  });

  it('predicted overlay (off by default) counts a just-routed prompt until its TTL', async () => {
    const clock = fakeClock();
    const tokens = prompt(160);
    const off = await createRouter({ now: clock.now, random: seeded(1) }, { index: newIndex() });
    off.addWorker({ workerId: 'a' });
    off.pickEndpoint({ tokens });
    expect(picked(off.pickEndpoint({ tokens })).overlapBlocks).toBe(0);

    const on = await createRouter({ now: clock.now, random: seeded(1), predictedOverlay: { enabled: true, ttlMs: 2_000 } }, { index: newIndex() });
    on.addWorker({ workerId: 'a' });
    on.addWorker({ workerId: 'b' });
    const first = picked(on.pickEndpoint({ tokens }));
    const second = picked(on.pickEndpoint({ tokens }));
    expect(second.workerId).toBe(first.workerId);
    expect(second.overlapBlocks).toBe(10);
    clock.advance(2_001);
    expect(picked(on.pickEndpoint({ tokens: prompt(16, 77_777) })).overlapBlocks).toBe(0);
    const third = on.pickEndpoint({ tokens });
    expect(picked(third).overlapBlocks).toBe(0);
  });
});

describe('text mode', () => {
  it('routes raw text in approximate mode, seeded by model', async () => {
    const clock = fakeClock();
    const router = await createRouter({ now: clock.now, random: seeded(11) }, { index: newIndex() });
    for (const w of ['a', 'b', 'c']) router.addWorker({ workerId: w });
    const text = 'You are a helpful assistant. '.repeat(20); // 580 chars → 9 blocks of 64
    expect(() => router.pickEndpoint({ text, model: 'm1' })).toThrow(/prepareTextModel/);
    const first = picked(await router.pickEndpointAsync({ text, model: 'm1' }));
    expect(first.promptBlocks).toBe(9);
    expect(first.overlapBlocks).toBe(0);
    const again = picked(router.pickEndpoint({ text: text + 'And one more question?', model: 'm1' }));
    expect(again.workerId).toBe(first.workerId);
    expect(again.overlapBlocks).toBe(9);
    // Another model never shares blocks.
    const other = picked(await router.pickEndpointAsync({ text, model: 'm2' }));
    expect(other.overlapBlocks).toBe(0);
    clock.advance(120_001);
    expect(picked(router.pickEndpoint({ text, model: 'm1' })).overlapBlocks).toBe(0);
  });
});

describe('events', () => {
  it('auto-registers workers on their first event by default, counts applied and rejected events', async () => {
    const router = await createRouter({}, { index: newIndex() });
    const tokens = prompt(64);
    expect(router.applyEvent(await storedEvent('new', tokens, 4))).toEqual({ applied: 4 });
    expect(router.workers()).toEqual([{ workerId: 'new', dpRanks: [0], role: 'both', endpoint: 'new', kvEvents: true }]);
    const bad = router.applyEvent({ type: 'stored', workerId: 'new', parentHash: 12345n, blocks: [{ blockHash: 1n, tokensHash: 2n }] });
    expect(bad.error).toBe('PARENT_NOT_FOUND');
    const text = router.metrics();
    expect(text).toContain('kvrouter_events_applied_total 1');
    expect(text).toContain('kvrouter_events_rejected_total{reason="PARENT_NOT_FOUND"} 1');
    expect(text).toContain('kvrouter_workers_auto_registered_total 1');
    expect(() => router.applyEvent({ type: 'nope', workerId: 'x' } as never)).toThrow(TypeError);
    expect(router.workers().map((w) => w.workerId)).toEqual(['new']); // the malformed event registered nothing
  });

  it('drops and counts events of unknown workers when auto-registration is off', async () => {
    const router = await createRouter({ autoRegisterWorkers: false }, { index: newIndex() });
    const tokens = prompt(64);
    expect(router.applyEvent(await storedEvent('ghost', tokens, 4))).toEqual({ applied: 0 });
    expect(router.workers()).toEqual([]);
    expect(router.metrics()).toContain('kvrouter_events_rejected_total{reason="UNKNOWN_WORKER"} 1');
    router.updateLoad('ghost', 0, { kvActiveBlocks: 1 });
    expect(router.metrics()).toContain('kvrouter_load_updates_total{outcome="unknown_worker"} 1');
  });

  it('removeWorker forgets the worker and its cache', async () => {
    const router = await createRouter({ random: seeded(1) }, { index: newIndex() });
    const tokens = prompt(64);
    router.applyEvent(await storedEvent('a', tokens, 4));
    router.addWorker({ workerId: 'b' });
    router.pickEndpoint({ tokens, requestId: 'r1', candidates: ['a'] });
    router.removeWorker('a');
    expect(router.workers().map((w) => w.workerId)).toEqual(['b']);
    expect(picked(router.pickEndpoint({ tokens })).workerId).toBe('b');
    router.addWorker({ workerId: 'a' });
    const r = picked(router.pickEndpoint({ tokens }));
    expect(r.candidates.find((c) => c.workerId === 'a')).toMatchObject({ overlapBlocks: 0, decodeBlocks: 4 });
    expect(router.free('r1')).toBe(true); // still a known id, but inert after removal
  });
});

describe('policy weighted', () => {
  it('scores prefix, queue and kv in [0, 1] with weights 3/2/2', async () => {
    const router = await createRouter({ policy: 'weighted', random: seeded(6) }, { index: newIndex() });
    const tokens = prompt(160);
    for (const w of ['a', 'b', 'c']) router.addWorker({ workerId: w });
    router.applyEvent(await storedEvent('a', tokens, 10));
    router.updateLoad('a', 0, { numRequestsWaiting: 8, gpuCacheUsagePerc: 0.75 });
    router.updateLoad('b', 0, { numRequestsWaiting: 0, gpuCacheUsagePerc: 0 });
    router.updateLoad('c', 0, { numRequestsWaiting: 4, gpuCacheUsagePerc: 1 });
    const scores = Object.fromEntries(router.scoreEndpoints({ tokens }).map((s) => [s.workerId, s.score]));
    expect(scores.a).toBeCloseTo((3 * 1 + 2 * 0 + 2 * 0.25) / 7, 12);
    expect(scores.b).toBeCloseTo((3 * 0 + 2 * 1 + 2 * 1) / 7, 12);
    expect(scores.c).toBeCloseTo((3 * 0 + 2 * 0.5 + 2 * 0) / 7, 12);
    const r = picked(router.pickEndpoint({ tokens }));
    expect(r.workerId).toBe('b');
  });

  it('weighted-random picker samples ∝ score', async () => {
    const router = await createRouter({ policy: 'weighted', picker: 'random', weights: { prefix: 1, queue: 0, kv: 0 }, random: seeded(9) }, { index: newIndex() });
    const tokens = prompt(160);
    router.applyEvent(await storedEvent('a', tokens, 3));
    router.applyEvent(await storedEvent('b', tokens, 1));
    router.addWorker({ workerId: 'c' });
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const draws = 4_000;
    for (let i = 0; i < draws; i++) counts[picked(router.pickEndpoint({ tokens })).workerId]!++;
    expect(counts.c).toBe(0);
    const chi = (counts.a! - draws * 0.75) ** 2 / (draws * 0.75) + (counts.b! - draws * 0.25) ** 2 / (draws * 0.25);
    expect(chi).toBeLessThan(10.83);
  });

  it('scoreEndpoints under policy cost normalizes costs and records nothing', async () => {
    const { router, tokens } = await workedExample();
    const scores = Object.fromEntries(router.scoreEndpoints({ tokens, requestId: 'x' }).map((s) => [s.workerId, s.score]));
    expect(scores).toEqual({ w1: 0, w2: 1, w3: 7 / 8 });
    expect(router.activeRequests).toBe(0);
  });

  it('runs custom filters and scorers', async () => {
    const router = await createRouter(
      {
        policy: 'weighted',
        filters: [{ name: 'no-b', keep: (t, i) => t.workerId(i) !== 'b' }],
        scorers: [{ name: 'alphabet', weight: 1, score: (t, out) => { for (let i = 0; i < t.n; i++) out[i] = t.workerId(i) === 'c' ? 1 : 0; } }],
      },
      { index: newIndex() },
    );
    for (const w of ['a', 'b', 'c']) router.addWorker({ workerId: w });
    const r = picked(router.pickEndpoint({ tokens: prompt(32) }));
    expect(r.workerId).toBe('c');
    expect(r.candidates.map((c) => c.workerId).sort()).toEqual(['a', 'c']);
  });
});

describe('validation', () => {
  it('rejects bad config with zod messages naming the field', async () => {
    await expect(createRouter({ temperature: -1 })).rejects.toThrow(RouterConfigError);
    await expect(createRouter({ temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(createRouter({ blockSize: 0 })).rejects.toThrow(/blockSize/);
    await expect(createRouter({ policy: 'fastest' as never })).rejects.toThrow(/policy/);
    await expect(createRouter({ weights: { prefix: 0, queue: 0, kv: 0 } })).rejects.toThrow(/weight/);
    await expect(createRouter({ busyThresholds: { decodeBlocksFraction: 2 } })).rejects.toThrow(/decodeBlocksFraction/);
    await expect(createRouter({ bogus: 1 } as never)).rejects.toThrow(/bogus/);
    await expect(createRouter({ random: 3 as never })).rejects.toThrow(/random/);
  });

  it('has Dynamo defaults', () => {
    const c = RouterConfigSchema.parse({});
    expect(c).toMatchObject({
      blockSize: 16, overlapCredit: 1, prefillLoadScale: 1, hostWeight: 0.75, diskWeight: 0.25, temperature: 0,
      approximateTtlMs: 120_000, policy: 'cost', picker: 'max', weights: { prefix: 3, queue: 2, kv: 2 }, kvEvents: true,
      predictedOverlay: { enabled: false },
    });
    expect(typeof c.random()).toBe('number');
  });

  it('rejects bad requests with TypeError / RangeError and records nothing', async () => {
    const router = await createRouter({}, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    expect(() => router.pickEndpoint(null as never)).toThrow(TypeError);
    expect(() => router.pickEndpoint({} as never)).toThrow(/tokens/);
    expect(() => router.pickEndpoint({ tokens: 5 } as never)).toThrow(TypeError);
    expect(() => router.pickEndpoint({ tokens: [1, 2, 3.5], requestId: 'r' })).toThrow(RangeError);
    expect(() => router.pickEndpoint({ tokens: [1, -1] })).toThrow(/tokens\[1\]/);
    expect(() => router.pickEndpoint({ tokens: [2 ** 32] })).toThrow(RangeError);
    expect(() => router.pickEndpoint({ tokens: [1], candidates: [] })).toThrow(RangeError);
    expect(() => router.pickEndpoint({ tokens: [1], candidates: [7 as never] })).toThrow(TypeError);
    expect(() => router.pickEndpoint({ tokens: [1], candidates: [{ workerId: 'w', dpRank: -2 }] })).toThrow(RangeError);
    expect(() => router.pickEndpoint({ tokens: [1], role: 'both' as never })).toThrow(/role/);
    expect(() => router.pickEndpoint({ tokens: [1], requestId: '' })).toThrow(/requestId/);
    expect(() => router.pickEndpoint({ tokens: [1], loraName: 'unprepared' })).toThrow(/prepareLora/);
    expect(() => router.pickEndpoint({ text: 'x', model: '' })).toThrow(/model/);
    expect(() => router.addWorker({ workerId: 'x', role: 'boss' as never })).toThrow(/role/);
    expect(() => router.addWorker({ workerId: 'x', dpRanks: [0.5] })).toThrow(RangeError);
    expect(router.activeRequests).toBe(0);
    expect(router.metrics()).toContain('kvrouter_picks_total{outcome="picked"} 0');
  });

  it('routes LoRA requests with their own hashes once prepared', async () => {
    const router = await createRouter({ loraNames: ['ad1'], random: seeded(1) }, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    const tokens = prompt(64);
    router.applyEvent(await storedEvent('w', tokens, 4)); // base-model hashes
    expect(picked(router.pickEndpoint({ tokens })).overlapBlocks).toBe(4);
    expect(picked(router.pickEndpoint({ tokens, loraName: 'ad1' })).overlapBlocks).toBe(0);
    await router.prepareLora('ad2');
    expect(picked(router.pickEndpoint({ tokens, loraName: 'ad2' })).overlapBlocks).toBe(0);
  });
});

describe('metrics()', () => {
  /** A small Prometheus text-format parser: every line a comment (HELP/TYPE) or a sample. */
  function parse(text: string) {
    const types = new Map<string, string>();
    const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (meta) {
        if (meta[1] === 'TYPE') {
          expect(['counter', 'gauge', 'histogram']).toContain(meta[3]);
          expect(types.has(meta[2]!)).toBe(false);
          types.set(meta[2]!, meta[3]!);
        }
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      expect(m, `bad line: ${line}`).not.toBeNull();
      const labels: Record<string, string> = {};
      if (m![2]) for (const part of m![2].split(/,(?=[a-zA-Z_])/)) {
        const kv = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(part);
        expect(kv, `bad label: ${part}`).not.toBeNull();
        labels[kv![1]!] = kv![2]!;
      }
      const value = m![3] === '+Inf' ? Infinity : Number(m![3]);
      expect(Number.isNaN(value)).toBe(false);
      samples.push({ name: m![1]!, labels, value });
    }
    return { types, samples };
  }

  it('is valid Prometheus text with kvrouter_* names, histograms cumulative', async () => {
    const { router, tokens } = await workedExample();
    for (let i = 0; i < 5; i++) router.pickEndpoint({ tokens, requestId: `r${i}` });
    router.pickEndpoint({ tokens, candidates: ['ghost'] });
    const { types, samples } = parse(router.metrics());
    for (const s of samples) expect(s.name.startsWith('kvrouter_')).toBe(true);
    for (const name of types.keys()) expect(name.startsWith('kvrouter_')).toBe(true);
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(get('kvrouter_picks_total', { outcome: 'picked' })).toBe(5);
    expect(get('kvrouter_picks_total', { outcome: 'no_known_candidates' })).toBe(1);
    expect(get('kvrouter_active_requests')).toBe(5);
    expect(get('kvrouter_workers')).toBe(3);
    expect(get('kvrouter_events_applied_total')).toBe(3);
    expect(get('kvrouter_index_entries')).toBe(2 + 5 + 8);
    expect(get('kvrouter_unknown_candidates_total')).toBe(1);
    for (const h of ['kvrouter_pick_latency_seconds', 'kvrouter_pick_overlap_ratio']) {
      expect(types.get(h)).toBe('histogram');
      const buckets = samples.filter((s) => s.name === `${h}_bucket`);
      expect(buckets.at(-1)!.labels.le).toBe('+Inf');
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(buckets.at(-1)!.value).toBe(get(`${h}_count`));
    }
    expect(get('kvrouter_pick_latency_seconds_count')).toBe(6);
    expect(get('kvrouter_pick_overlap_ratio_count')).toBe(5);
    expect(get('kvrouter_pick_overlap_ratio_sum')).toBeGreaterThan(0);
  });
});

describe('integration', () => {
  it('defaults to a RadixIndex, agrees with the reference index, and is an IngestTarget', async () => {
    const build = async (index?: RouterIndex) => {
      const router = await createRouter({ random: seeded(12) }, index === undefined ? {} : { index });
      const target: IngestTarget = router; // compile-time: the applyEvent/updateLoad form
      const tokens = prompt(320);
      for (const [w, n, tier] of [['a', 3, 'device'], ['b', 12, 'host'], ['c', 20, 'disk'], ['d', 7, 'device']] as const) {
        target.applyEvent(await storedEvent(w, tokens, n, { tier }));
      }
      return { router, tokens };
    };
    const fast = await build();
    const ref = await build(newIndex('reference'));
    const a = picked(fast.router.pickEndpoint({ tokens: fast.tokens }));
    const b = picked(ref.router.pickEndpoint({ tokens: ref.tokens }));
    expect(a.candidates).toEqual(b.candidates);
    // b: prefill 20 − 0.75·12 = 11, decode 8 → 19; c: prefill 20 − 0.25·20 = 15, decode 0 → 15.
    expect(a.workerId).toBe('c');
    expect(a.cost).toBe(15);
  });

  it('reads RadixIndex matches through its zero-allocation slot view (canary for a change in src/radix)', async () => {
    const index = newIndex();
    expect(index, 'the router takes the fast path only for RadixIndex').toBeInstanceOf(RadixIndex);
    const router = await createRouter({}, { index });
    const tokens = prompt(64);
    router.applyEvent(await storedEvent('a', tokens, 4, { tier: 'host' }));
    router.applyEvent(await storedEvent('b', tokens, 2));
    const hasher = await createHasher({ blockSize: 16 });
    const pairs = new Uint32Array(hasher.blockHashes(tokens).buffer);
    const radix = index as RadixIndex;
    const rows = radix.matchSlotsU32(pairs, 4);
    expect(rows).toBe(2);
    const seen: Record<string, number[]> = {};
    for (let r = 0; r < rows; r++) {
      const slot = radix.matchedSlots[r]!;
      seen[radix.cacheWorkerId(slot)] = Array.from(radix.matchedCounts.subarray(slot * 4, slot * 4 + 4)); // overlap, device, host, disk
    }
    expect(seen).toEqual({ a: [4, 0, 4, 0], b: [2, 2, 0, 0] });
    const epoch = radix.cacheEpoch;
    router.removeWorker('b');
    expect(radix.cacheEpoch, 'releasing a cache slot must move the epoch').not.toBe(epoch);
    const pick = picked(router.pickEndpoint({ tokens }));
    expect(pick.candidates.map((c) => [c.workerId, c.overlapBlocks, c.tiers])).toEqual([['a', 4, { device: 0, host: 4, disk: 0 }]]);
  });

  it('keeps a result\'s candidate ids and the index row cache right when slots are freed and reused', async () => {
    const router = await createRouter({}, { index: newIndex() });
    const tokens = prompt(64);
    router.applyEvent(await storedEvent('a', tokens, 4));
    router.applyEvent(await storedEvent('b', tokens, 2));
    const first = picked(router.pickEndpoint({ tokens }));
    expect(first.workerId).toBe('a');
    router.removeWorker('a'); // frees a's slot; 'c' reuses it
    router.applyEvent(await storedEvent('c', tokens, 3));
    const second = picked(router.pickEndpoint({ tokens }));
    expect(second.workerId).toBe('c');
    expect(Object.fromEntries(second.candidates.map((c) => [c.workerId, c.overlapBlocks]))).toEqual({ b: 2, c: 3 });
    // A pick over a subset computes in a smaller block; earlier results keep theirs.
    const third = picked(router.pickEndpoint({ tokens, candidates: ['b'] }));
    expect(third.candidates.map((c) => [c.workerId, c.overlapBlocks, c.dpRank])).toEqual([['b', 2, 0]]);
    const fourth = picked(router.pickEndpoint({ tokens }));
    expect(fourth.candidates.map((c) => c.workerId).sort()).toEqual(['b', 'c']);
    // Read after the table changed: the first result still names its own workers.
    expect(Object.fromEntries(first.candidates.map((c) => [c.workerId, c.overlapBlocks]))).toEqual({ a: 4, b: 2 });
    expect(Object.fromEntries(second.candidates.map((c) => [c.workerId, c.overlapBlocks]))).toEqual({ b: 2, c: 3 });
  });

  it('tracks requests whose prompt is shorter than one block', async () => {
    const router = await createRouter({}, { index: newIndex() });
    router.addWorker({ workerId: 'w' });
    router.pickEndpoint({ tokens: [1, 2, 3], requestId: 'short' });
    expect(router.activeRequests).toBe(1);
    expect(router.free('short')).toBe(true);
  });
});
