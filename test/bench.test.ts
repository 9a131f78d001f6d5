/**
 * Smoke test of the benchmark harness: the workload generators are deterministic and well formed,
 * and the baseline designs compute exactly the reference's overlaps on the same workload (so the
 * ratios compare equal answers).
 */
import { describe, expect, it } from 'vitest';
import { createHasher } from '../src/hashing/index.js';
import { InvertedIndex } from '../bench/baselines/inverted.js';
import { NaiveIndex } from '../bench/baselines/naive.js';
import type { BenchIndex } from '../bench/baselines/types.js';
import { checkThresholds, Results } from '../bench/lib/results.js';
import { summarize } from '../bench/lib/timer.js';
import { Fleet } from '../bench/workloads/fleet.js';
import { LoadCappedPolicy, MooncakeBlocks, SimWorker, readTrace } from '../bench/workloads/mooncake.js';
import { ReferenceIndex } from './reference/index.js';

const TRACE = new URL('./fixtures/mooncake-conversation-head.jsonl', import.meta.url).pathname;

function scoresOf(index: BenchIndex, q: BigUint64Array): string {
  const s = index.findMatches(q);
  return [...s]
    .map((o) => `${o.workerId}=${o.blocks}/${JSON.stringify(s.tiers(o.workerId, o.dpRank))}`)
    .sort()
    .join(',');
}

describe('fleet workload', () => {
  it('is a pure function of its config and seed', async () => {
    const hasher = await createHasher({ blockSize: 16 });
    const a = new Fleet({ workers: 8, blocksPerWorker: 512, blockSize: 16, seed: 1 }, hasher);
    const b = new Fleet({ workers: 8, blocksPerWorker: 512, blockSize: 16, seed: 1 }, hasher);
    const c = new Fleet({ workers: 8, blocksPerWorker: 512, blockSize: 16, seed: 2 }, hasher);
    const dump = (f: Fleet): string => JSON.stringify(f.storedEvents(3), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    expect(dump(a)).toBe(dump(b));
    expect(dump(a)).not.toBe(dump(c));
    const qa = a.queries(64, 10, false).map((q) => q.hashes.join());
    expect(qa).toEqual(b.queries(64, 10, false).map((q) => q.hashes.join()));
  });

  it('gives each worker exactly C blocks in parent-linked chains, and tokens that hash to the queries', async () => {
    const hasher = await createHasher({ blockSize: 16 });
    const fleet = new Fleet({ workers: 4, blocksPerWorker: 700, blockSize: 16, seed: 5 }, hasher);
    for (let w = 0; w < 4; w++) {
      const events = fleet.storedEvents(w);
      expect(events.reduce((n, e) => n + e.blocks.length, 0)).toBe(700);
      const held = new Set<bigint>();
      for (const e of events) {
        if (e.parentHash !== null && e.parentHash !== undefined) expect(held.has(e.parentHash)).toBe(true);
        for (const blk of e.blocks) held.add(blk.blockHash);
      }
      expect(fleet.removedEvents(w).reduce((n, e) => n + e.blockHashes.length, 0)).toBe(700);
    }
    for (const q of fleet.queries(512, 6, true)) expect(hasher.blockHashes(q.tokens!)).toEqual(q.hashes);
  });
});

describe('baselines agree with the reference', () => {
  it('naive and inverted give the reference overlaps and tiers, before and after removals', async () => {
    const hasher = await createHasher({ blockSize: 16 });
    const fleet = new Fleet({ workers: 6, blocksPerWorker: 400, blockSize: 16, seed: 9 }, hasher);
    const kinds: BenchIndex[] = [new ReferenceIndex(), new NaiveIndex(hasher), new InvertedIndex(hasher)];
    for (let w = 0; w < 6; w++) for (const e of fleet.storedEvents(w)) for (const k of kinds) expect(k.apply(e).error).toBeUndefined();
    const queries = [16, 64, 512].flatMap((d) => fleet.queries(d, 12, false));
    const matched = queries.filter((q) => kinds[0]!.findMatches(q.hashes).size > 0).length;
    expect(matched).toBeGreaterThan(queries.length / 2);
    const check = (): void => {
      for (const q of queries) {
        const want = scoresOf(kinds[0]!, q.hashes);
        for (const k of kinds.slice(1)) expect(scoresOf(k, q.hashes)).toBe(want);
      }
    };
    check();
    // Remove part of some workers' blocks (deepest first, as LRU engines do) and compare again.
    for (const w of [1, 4]) {
      for (const e of fleet.removedEvents(w).slice(0, 3)) {
        const applied = kinds.map((k) => k.apply(e).applied);
        expect(new Set(applied).size).toBe(1);
      }
    }
    check();
    for (const k of kinds) k.removeWorker(fleet.workerId(2));
    check();
  });
});

describe('Mooncake replay workload', () => {
  it('expands ids to real chained sequence hashes and emits events the reference accepts', async () => {
    const hasher = await createHasher({ blockSize: 16 });
    const { requests, distinct } = readTrace(TRACE, 16, 60);
    expect(requests).toHaveLength(60);
    const blocks = new MooncakeBlocks(requests, distinct, hasher);
    const r = requests[5]!;
    const pairs = new Uint32Array(10_000 * 2);
    blocks.query(r, pairs);
    const tokens = new BigUint64Array(pairs.buffer, 0, r.blocks);
    const seq = hasher.sequenceHashes(tokens);
    for (let i = 0; i < r.blocks; i += 37) expect(blocks.seqHash(blocks.block(r, i))).toBe(seq[i]);

    const index = new ReferenceIndex();
    const capacity = 3000;
    const sims = [new SimWorker('a', capacity, 10_000), new SimWorker('b', capacity, 10_000)];
    const policy = new LoadCappedPolicy(2);
    const picks: number[] = [];
    for (const [i, req] of requests.entries()) {
      const n = blocks.query(req, pairs);
      const overlaps: Array<[number, number]> = [...index.findMatchesU32(pairs, n)].map((o) => [o.workerId === 'a' ? 0 : 1, o.blocks]);
      const w = policy.pick(overlaps, i);
      picks.push(w);
      for (const e of sims[w]!.serve(req, blocks)) expect(index.apply(e).error).toBeUndefined();
      expect(sims[w]!.size).toBeLessThanOrEqual(capacity);
      expect(index.blockCount(sims[w]!.workerId)).toBe(sims[w]!.size);
      // The routed worker now holds the whole prompt (capped at its capacity).
      expect(index.findMatchesU32(pairs, n).get(sims[w]!.workerId)).toBe(Math.min(n, capacity));
    }
    expect(new Set(picks).size).toBe(2);
  });
});

describe('harness plumbing', () => {
  it('computes ratios in the "times better" direction and percentiles by nearest rank', () => {
    const r = new Results();
    expect(r.add({ name: 'x', unit: 'µs', better: 'lower', values: { ours: 10, reference: 50 } }).ratio).toBe(5);
    expect(r.add({ name: 'y', unit: 'ops/s', better: 'higher', values: { ours: 30, reference: 10 } }).ratio).toBe(3);
    const s = summarize(Float64Array.from({ length: 100 }, (_, i) => 100 - i));
    expect([s.p50Us, s.p99Us, s.maxUs]).toEqual([50, 99, 100]);
  });

  it('fails the check below a floor or on a missing figure, and only warns on a skipped one', () => {
    const r = new Results();
    r.add({ name: 'fast', unit: 'µs', better: 'lower', values: { ours: 10, reference: 100 } });
    r.add({ name: 'slow', unit: 'µs', better: 'lower', values: { ours: 60, reference: 100 } });
    r.add({ name: 'later', unit: 'µs', better: 'lower', values: { reference: 100 }, skipped: 'RadixIndex not available yet' });
    expect(checkThresholds(r.rows, { floors: { fast: { minRatio: 5 }, later: { minRatio: 2 } } }).ok).toBe(true);
    const bad = checkThresholds(r.rows, { floors: { slow: { minRatio: 2 } } });
    expect(bad.ok).toBe(false);
    expect(bad.lines[0]).toMatch(/FAIL slow: ratio 1\.67x .* below the floor 2x/);
    expect(checkThresholds(r.rows, { floors: { gone: { minRatio: 1 } } }).ok).toBe(false);
  });
});
