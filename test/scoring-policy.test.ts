import { describe, expect, it } from 'vitest';
import { decodeBlocksWith, overlapCreditBlocks, prefillBlocksAfterCredit, routingCost } from '../src/scoring/cost.js';
import { normalizeWeights, pickMax, pickMin, sampleIndex, softmaxProbabilities } from '../src/scoring/pickers.js';
import { costScores, kvScores, prefixScores, queueScores } from '../src/scoring/scorers.js';
import { PairCounter } from '../src/scoring/pair-counter.js';
import { PromptMemory } from '../src/scoring/prompt-memory.js';
import { BlockIds } from '../src/scoring/block-ids.js';
import { seeded } from './router-helpers.js';

const dynamo = { blockSize: 16, overlapCredit: 1, hostWeight: 0.75, diskWeight: 0.25, prefillLoadScale: 1 };

/** Pearson chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[], draws: number): number {
  let x = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i]! * draws;
    if (e === 0) {
      expect(counts[i]).toBe(0);
      continue;
    }
    x += (counts[i]! - e) ** 2 / e;
  }
  return x;
}
// 99.9th percentile of chi-square with k degrees of freedom, for the k used below.
const CHI2_999: Record<number, number> = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 5: 20.52, 7: 24.32 };

describe('cost (DESIGN §6)', () => {
  it('reproduces the worked example: w1 18, w2 10, w3 11', () => {
    // 10-block prompt (160 tokens at B = 16), idle prefill. decode = active + (prompt − overlap):
    // w1 active 2 + 8 new = 10, w2 active 0 + 5 new = 5, w3 active 7 + 2 new = 9.
    const rows = [
      { overlap: 2, active: 2 },
      { overlap: 5, active: 0 },
      { overlap: 8, active: 7 },
    ];
    const costs = rows.map(({ overlap, active }) => {
      const prefill = prefillBlocksAfterCredit(dynamo, 0, 160, overlapCreditBlocks(dynamo, overlap, 0, 0));
      return routingCost(dynamo, prefill, decodeBlocksWith(active, 10, overlap));
    });
    expect(costs).toEqual([18, 10, 11]);
  });

  it('weights host and disk blocks and never lets the credit make prefill negative', () => {
    expect(overlapCreditBlocks(dynamo, 4, 4, 4)).toBe(4 + 3 + 1);
    expect(overlapCreditBlocks(dynamo, 4, 4, 4, 0)).toBe(0);
    expect(prefillBlocksAfterCredit(dynamo, 0, 32, 10)).toBe(0);
    expect(prefillBlocksAfterCredit(dynamo, 64, 32, 1)).toBe(5);
    expect(decodeBlocksWith(3, 2, 5)).toBe(3);
    expect(routingCost({ ...dynamo, prefillLoadScale: 2 }, 3, 4)).toBe(10);
  });
});

describe('pickers', () => {
  it('pickMin breaks exact ties uniformly (seeded, chi-square bound)', () => {
    const costs = Float64Array.from([5, 3, 3, 9, 3, 3]);
    const probs = new Float64Array(6);
    const random = seeded(42);
    const counts = [0, 0, 0, 0, 0, 0];
    const draws = 40_000;
    for (let d = 0; d < draws; d++) counts[pickMin(costs, 6, random, probs)]!++;
    expect([...probs]).toEqual([0, 0.25, 0.25, 0, 0.25, 0.25]);
    expect(counts[0]).toBe(0);
    expect(counts[3]).toBe(0);
    const x = chiSquare([counts[1]!, counts[2]!, counts[4]!, counts[5]!], [0.25, 0.25, 0.25, 0.25], draws);
    expect(x).toBeLessThan(CHI2_999[3]!);
  });

  it('pickMax takes the unique maximum and reports probability 1', () => {
    const probs = new Float64Array(3);
    expect(pickMax(Float64Array.from([0.2, 0.9, 0.5]), 3, seeded(1), probs)).toBe(1);
    expect([...probs]).toEqual([0, 1, 0]);
  });

  it('softmax matches p ∝ exp(−(c − cmin)/((cmax − cmin)·T)) and sampling follows it', () => {
    const costs = Float64Array.from([10, 11, 14, 18]);
    for (const T of [0.1, 0.5, 1, 3]) {
      const probs = new Float64Array(4);
      softmaxProbabilities(costs, 4, T, probs);
      const raw = [...costs].map((c) => Math.exp(-(c - 10) / (8 * T)));
      const sum = raw.reduce((a, b) => a + b, 0);
      raw.forEach((r, i) => expect(probs[i]).toBeCloseTo(r / sum, 12));
      const random = seeded(Math.round(T * 1000));
      const counts = [0, 0, 0, 0];
      const draws = 30_000;
      for (let d = 0; d < draws; d++) counts[sampleIndex(probs, 4, random)]!++;
      // Categories with expected count < 5 would break the chi-square approximation: merge them.
      const expected = [...probs];
      const big = expected.map((p, i) => [p, i] as const).filter(([p]) => p * draws >= 5);
      const small = expected.map((p, i) => [p, i] as const).filter(([p]) => p * draws < 5);
      const obs = big.map(([, i]) => counts[i]!);
      const exp = big.map(([p]) => p);
      if (small.length > 0) {
        obs.push(small.reduce((a, [, i]) => a + counts[i]!, 0));
        exp.push(small.reduce((a, [p]) => a + p, 0));
      }
      expect(chiSquare(obs, exp, draws)).toBeLessThan(CHI2_999[obs.length - 1] ?? 30);
    }
  });

  it('softmax is uniform when all costs are equal', () => {
    const probs = new Float64Array(3);
    softmaxProbabilities(Float64Array.from([7, 7, 7]), 3, 0.5, probs);
    expect([...probs]).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('weighted-random normalizes weights and is uniform over all-zero weights', () => {
    const probs = new Float64Array(3);
    normalizeWeights(Float64Array.from([1, 3, 0]), 3, probs);
    expect([...probs]).toEqual([0.25, 0.75, 0]);
    normalizeWeights(Float64Array.from([0, 0, 0]), 3, probs);
    expect([...probs]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    // sampleIndex never returns a zero-probability entry, even for r → 1.
    expect(sampleIndex(Float64Array.from([0.5, 0.5, 0]), 3, () => 0.9999999999)).toBe(1);
  });
});

describe('normalized scorers (EPP)', () => {
  it('prefix = matched/total, queue = (maxQ − q)/(maxQ − minQ), kv = 1 − usage, cost normalized', () => {
    const out = new Float64Array(3);
    prefixScores(Float64Array.from([0, 5, 10]), 10, 3, out);
    expect([...out]).toEqual([0, 0.5, 1]);
    prefixScores(Float64Array.from([0, 0, 0]), 0, 3, out);
    expect([...out]).toEqual([0, 0, 0]);
    queueScores(Float64Array.from([2, 6, 4]), 3, out);
    expect([...out]).toEqual([1, 0, 0.5]);
    queueScores(Float64Array.from([3, 3, 3]), 3, out);
    expect([...out]).toEqual([1, 1, 1]);
    kvScores(Float64Array.from([0, 0.25, 1.5]), 3, out);
    expect([...out]).toEqual([1, 0.75, 0]);
    costScores(Float64Array.from([10, 18, 11]), 3, out);
    expect([...out]).toEqual([1, 0, 0.875]);
  });
});

describe('PairCounter', () => {
  it('agrees with a Map under random increments and decrements (growth and backward-shift deletes)', () => {
    const random = seeded(7);
    const counter = new PairCounter(2);
    const model = new Map<string, number>();
    // A small key space forces collisions, long probe runs and many deletions.
    const keys = Array.from({ length: 300 }, (_, i) => [(i * 2654435761) >>> 0, i % 3 === 0 ? 0 : (i * 40503) >>> 0] as const);
    for (let step = 0; step < 20_000; step++) {
      const [lo, hi] = keys[Math.floor(random() * keys.length)]!;
      const k = `${lo}:${hi}`;
      const had = model.get(k) ?? 0;
      if (random() < 0.55) {
        expect(counter.increment(lo, hi)).toBe(had === 0);
        model.set(k, had + 1);
      } else {
        expect(counter.decrement(lo, hi)).toBe(had === 1);
        if (had > 1) model.set(k, had - 1);
        else model.delete(k);
      }
      if (step % 997 === 0) for (const [l, h] of keys) expect(counter.get(l, h)).toBe(model.get(`${l}:${h}`) ?? 0);
    }
    expect(counter.size).toBe(model.size);
  });
});

describe('BlockIds', () => {
  it('agrees with a Map under random interns and releases (growth, backward-shift deletes, id reuse)', () => {
    const random = seeded(77);
    const ids = new BlockIds();
    const model = new Map<string, number>();
    // Few distinct high halves and clustered low halves: many probe collisions.
    const keys = Array.from({ length: 3000 }, (_, i) => [(i * 7) >>> 0, i % 5] as const);
    for (let step = 0; step < 60_000; step++) {
      const [lo, hi] = keys[Math.floor(random() * keys.length)]!;
      const k = `${lo}:${hi}`;
      if (random() < 0.55) {
        const id = ids.intern(lo, hi);
        const had = model.get(k);
        if (had !== undefined) expect(id).toBe(had);
        else {
          expect([...model.values()]).not.toContain(id); // a fresh id is not in use
          model.set(k, id);
        }
      } else if (model.has(k)) {
        ids.release(model.get(k)!);
        model.delete(k);
      }
      if (step % 1999 === 0) for (const [l, h] of keys) expect(ids.get(l, h)).toBe(model.get(`${l}:${h}`) ?? -1);
    }
    expect(ids.size).toBe(model.size);
  });
});

describe('PromptMemory (approximate records)', () => {
  /** Chained keys: block i of a prompt is determined by its whole prefix, like sequence hashes. */
  function chain(branches: number[]): Uint32Array {
    const keys = new Uint32Array(branches.length * 2);
    let h = 17;
    branches.forEach((b, i) => {
      h = Math.imul(h ^ (b + 1), 0x9e3779b1) >>> 0;
      keys[2 * i] = h;
      keys[2 * i + 1] = (h * 7 + i) >>> 0;
    });
    return keys;
  }

  it('one-walk overlap equals a linear walk of held blocks, also under LRU eviction and TTL expiry', () => {
    let now = 0;
    const random = seeded(21);
    for (const maxBlocks of [1 << 20, 40]) {
      const memory = new PromptMemory(1_000, maxBlocks, () => now);
      const walk = (slot: number, keys: Uint32Array, n: number) => {
        let d = 0;
        while (d < n && memory.holds(slot, keys[2 * d]!, keys[2 * d + 1]!)) d++;
        return d;
      };
      for (let step = 0; step < 400; step++) {
        const n = 1 + Math.floor(random() * 30);
        const branches = Array.from({ length: n }, () => (random() < 0.8 ? 0 : Math.floor(random() * 3)));
        const keys = chain(branches);
        if (random() < 0.5) memory.record(step % 3, keys, n);
        now += Math.floor(random() * 40);
        const probe = chain(Array.from({ length: 30 }, (_, i) => branches[i] ?? 0));
        for (let slot = 0; slot < 3; slot++) expect(memory.overlap(slot, probe, 30)).toBe(walk(slot, probe, 30));
      }
    }
    const memory = new PromptMemory(1_000, 100, () => now);
    const keys = chain([0, 0, 0, 0]);
    memory.record(0, keys, 4);
    expect(memory.overlap(0, keys, 4)).toBe(4);
    now += 1_001;
    expect(memory.overlap(0, keys, 4)).toBe(0);
    expect(memory.totalSize()).toBe(0);
  });

  it('matches a model of plain records (Map) under random picks, refreshes, prefix take-overs and expiry', () => {
    const ttl = 500;
    for (const seed of [1, 2, 3, 4]) {
      let now = seed === 1 ? 0 : 1_000 * seed; // clock 0 is a special case for lru-cache
      const random = seeded(100 + seed);
      const slots = 5;
      const memory = new PromptMemory(ttl, 1 << 20, () => now);
      /** Model: (slot, deepest-key) → the record's keys and TTL start. */
      const model = new Map<string, { slot: number; keys: string[]; start: number }>();
      const keyStr = (keys: Uint32Array, i: number) => `${keys[2 * i]}:${keys[2 * i + 1]}`;
      const modelDepth = (slot: number, keys: Uint32Array, n: number) => {
        const held = new Set<string>();
        for (const r of model.values()) if (r.slot === slot && now - r.start <= ttl) for (const k of r.keys) held.add(k);
        let d = 0;
        while (d < n && held.has(keyStr(keys, d))) d++;
        return d;
      };
      const prompts: number[][] = [];
      for (let step = 0; step < 600; step++) {
        // Prompts share prefixes: extend, truncate or vary an earlier one, or start afresh.
        let branches: number[];
        const base = prompts.length > 0 ? prompts[Math.floor(random() * prompts.length)]! : [];
        const r = random();
        if (r < 0.3 || base.length === 0) branches = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * 2));
        else if (r < 0.6) branches = base.slice(0, 1 + Math.floor(random() * base.length));
        else if (r < 0.8) branches = [...base, ...Array.from({ length: 1 + Math.floor(random() * 5) }, () => Math.floor(random() * 2))];
        else branches = base.slice();
        prompts.push(branches);
        const keys = chain(branches);
        const n = branches.length;
        if (random() < 0.6) {
          const slot = Math.floor(random() * slots);
          // The router's hint is the slot's depth from this prompt's match; any hint must be safe.
          memory.match(keys, n);
          const hint = random() < 0.7 ? memory.depth(slot) : Math.floor(random() * (n + 2));
          memory.record(slot, keys, n, hint);
          model.set(`${slot}/${keyStr(keys, n - 1)}`, { slot, keys: Array.from({ length: n }, (_, i) => keyStr(keys, i)), start: now });
        }
        now += random() < 0.1 ? Math.floor(random() * 600) : Math.floor(random() * 30);
        const probe = chain([...branches, 0, 1, 0]);
        memory.match(probe, n + 3);
        for (let slot = 0; slot < slots; slot++) expect(memory.depth(slot)).toBe(modelDepth(slot, probe, n + 3));
        if (step % 50 === 0) {
          const slot = Math.floor(random() * slots);
          memory.clearSlot(slot);
          for (const [k, rec] of model) if (rec.slot === slot) model.delete(k);
        }
      }
      now += ttl + 1;
      memory.purgeStale();
      expect(memory.totalSize()).toBe(0);
    }
  });
});
