/**
 * Differential tests: random event streams go into a literal model of INDEX-SEMANTICS.md, the
 * reference index and (when exported) the optimized RadixIndex; after every step the apply results
 * must be identical, and after each step every cache's score and tier counts (with and without
 * early exit) for a set of queries, block counts, known workers and entry counts must agree.
 *
 * Seeded: set KVROUTER_FC_SEED / KVROUTER_FC_RUNS to explore further.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvEvent, WorkerKey } from '../src/radix/types.js';
import { actionCode, prng, show, step, StreamDriver, WORKER_IDS, type Step } from './helpers/event-streams.js';
import { implementations, scoreList, workerList, type Implementation, type IndexUnderTest } from './helpers/index-impls.js';
import { LiteralModel } from './helpers/literal-model.js';

const SEED = Number(process.env.KVROUTER_FC_SEED ?? 20261127);
const RUNS = Number(process.env.KVROUTER_FC_RUNS ?? 300);

interface Subject {
  name: string;
  impl: Implementation;
  index: IndexUnderTest;
  baselineNodes: number;
}

const byKey = (a: WorkerKey, b: WorkerKey): number =>
  a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : a.dpRank - b.dpRank;

class Mismatch extends Error {}

/** Runs a stream into the model and every implementation, comparing as it goes. */
class Comparison {
  readonly model = new LiteralModel();
  readonly driver = new StreamDriver(this.model);
  readonly subjects: Subject[];
  readonly log: string[] = [];
  readonly #random: () => number;

  constructor(querySeed: number) {
    this.#random = prng(querySeed);
    this.subjects = implementations.map(([name, impl]) => {
      const index = impl.create();
      return { name, impl, index, baselineNodes: index.stats().nodes };
    });
  }

  fail(what: string): never {
    const tail = this.log.length > 80 ? ['// … earlier steps omitted', ...this.log.slice(-80)] : this.log;
    throw new Mismatch(`${what}\n// repro (${this.log.length} steps):\nlet index = new RadixIndex();\n${tail.join('\n')}`);
  }

  run(s: Step): void {
    const action = this.driver.action(s);
    this.log.push(actionCode(action));
    if (action.kind === 'snapshot') {
      for (const subject of this.subjects) subject.index = subject.impl.restore(subject.index.snapshot());
    } else if (action.kind === 'removeWorker') {
      this.model.removeWorker(action.workerId, action.dpRank);
      for (const { index } of this.subjects) index.removeWorker(action.workerId, action.dpRank);
    } else {
      this.applyEvent(action.event);
    }
  }

  applyEvent(event: KvEvent): void {
    const expected = this.model.apply(event);
    if (expected.error === undefined) this.driver.accepted(event);
    for (const { name, index } of this.subjects) {
      const got = index.apply(event);
      if (got.applied !== expected.applied || got.error !== expected.error) {
        this.fail(`${name}: apply returned ${show(got)}, expected ${show(expected)}`);
      }
    }
  }

  /** Compares everything observable on `queries`. */
  check(queryCount: number): void {
    const expectedWorkers = this.model.workers().sort(byKey);
    const queries = this.driver.queries(this.#random, queryCount);
    for (const { name, index } of this.subjects) {
      const workers = workerList(index);
      if (show(workers) !== show(expectedWorkers)) this.fail(`${name}: workers() ${show(workers)}, expected ${show(expectedWorkers)}`);
      for (const w of [...expectedWorkers, { workerId: 'nobody', dpRank: 0 }]) {
        const got = index.blockCount(w.workerId, w.dpRank);
        const want = this.model.blockCount(w.workerId, w.dpRank);
        if (got !== want) this.fail(`${name}: blockCount(${show(w)}) = ${got}, expected ${want}`);
      }
      const entries = index.stats().entries;
      if (entries !== this.model.entries()) this.fail(`${name}: stats().entries = ${entries}, expected ${this.model.entries()}`);
      queries.forEach((query, qi) => {
        for (const earlyExit of [false, true]) {
          const expected = this.model.findMatches(query, earlyExit).sort(byKey);
          // Vary the query's form: bigint[], BigUint64Array, and (lo, hi) pairs.
          const form = qi % 3;
          const big = new BigUint64Array(query);
          const scores =
            form === 1
              ? index.findMatches(big, { earlyExit })
              : form === 2 && index.findMatchesU32
                ? index.findMatchesU32(new Uint32Array(big.buffer), query.length, { earlyExit })
                : index.findMatches(query, { earlyExit });
          const where = `${name}: findMatches(${show(query)}, {earlyExit: ${earlyExit}})`;
          const got = scoreList(scores);
          const want = expected.map(({ workerId, dpRank, blocks }) => ({ workerId, dpRank, blocks }));
          if (show(got) !== show(want)) this.fail(`${where} scores ${show(got)}, expected ${show(want)}`);
          if (scores.size !== want.length) this.fail(`${where} size ${scores.size}, expected ${want.length}`);
          for (const e of expected) {
            if (scores.get(e.workerId, e.dpRank) !== e.blocks) this.fail(`${where} get(${show(e.workerId)}, ${e.dpRank}) differs`);
            const tiers = scores.tiers(e.workerId, e.dpRank);
            if (show(tiers) !== show(e.tiers)) this.fail(`${where} tiers of ${show(e.workerId)}/${e.dpRank} ${show(tiers)}, expected ${show(e.tiers)}`);
          }
          for (const w of expectedWorkers) {
            if (expected.some((e) => e.workerId === w.workerId && e.dpRank === w.dpRank)) continue;
            if (scores.get(w.workerId, w.dpRank) !== 0) this.fail(`${where} get(${show(w)}) should be 0`);
            if (show(scores.tiers(w.workerId, w.dpRank)) !== show({ device: 0, host: 0, disk: 0 })) {
              this.fail(`${where} tiers(${show(w)}) should be all 0`);
            }
          }
        }
      });
    }
  }

  /** Clears every known cache, removes every worker, and checks nothing is left. */
  drain(): void {
    for (const w of this.model.workers()) this.applyEvent({ type: 'cleared', workerId: w.workerId, dpRank: w.dpRank });
    this.check(4);
    for (const { name, index, baselineNodes } of this.subjects) {
      const stats = index.stats();
      if (stats.entries !== 0 || stats.nodes !== baselineNodes) {
        this.fail(`${name}: after clearing everything stats() = ${show(stats)}, expected entries 0 and nodes ${baselineNodes}`);
      }
    }
    for (const workerId of WORKER_IDS) {
      this.model.removeWorker(workerId);
      for (const { index } of this.subjects) index.removeWorker(workerId);
    }
    this.check(2);
  }
}

function runStream(steps: Step[], querySeed: number, queriesPerStep: number): Comparison {
  const comparison = new Comparison(querySeed);
  for (const s of steps) {
    comparison.run(s);
    comparison.check(queriesPerStep);
  }
  return comparison;
}

describe(`radix differential (model vs ${implementations.map(([n]) => n).join(', ')})`, () => {
  it(`random short streams, ${RUNS} runs, seed ${SEED}`, () => {
    fc.assert(
      fc.property(fc.array(step(6), { minLength: 1, maxLength: 40 }), fc.nat(), (steps, querySeed) => {
        runStream(steps, querySeed, 6);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it(`random streams with long chains, ${Math.ceil(RUNS / 3)} runs`, () => {
    fc.assert(
      fc.property(fc.array(step(40), { minLength: 1, maxLength: 30 }), fc.nat(), (steps, querySeed) => {
        runStream(steps, querySeed, 6).drain();
      }),
      { seed: SEED + 1, numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('a long stream (3000 steps) ends with every block freed', () => {
    const [steps] = fc.sample(fc.array(step(8), { minLength: 3000, maxLength: 3000 }), { seed: SEED + 2, numRuns: 1 });
    const comparison = new Comparison(SEED);
    steps!.forEach((s, i) => {
      comparison.run(s);
      if (i % 10 === 0) comparison.check(4);
    });
    comparison.check(8);
    expect(comparison.model.entries()).toBeGreaterThan(20); // the stream built something worth draining
    comparison.drain();
  });
});
