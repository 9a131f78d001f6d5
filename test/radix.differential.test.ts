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
import { compareIndexes, Comparison, Mismatch } from './helpers/comparison.js';
import { show, step, type Step } from './helpers/event-streams.js';
import { FleetStream, type FleetAction } from './helpers/fleet-stream.js';
import { implementations, optimized, reference, type IndexUnderTest } from './helpers/index-impls.js';

const SEED = Number(process.env.KVROUTER_FC_SEED ?? 20261127);
const RUNS = Number(process.env.KVROUTER_FC_RUNS ?? 300);

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

  it('a fleet-shaped volume stream (48 caches, long shared prompts, eviction waves, compaction): RadixIndex vs reference', () => {
    const stream = new FleetStream({ seed: SEED, workers: 24, ranks: 2, systemBlocks: 200 });
    let oracle = reference.create();
    let subject = optimized.create();
    const baselineNodes = subject.stats().nodes;
    let compactions = 0;
    /** Counts RadixIndex's pool compactions (white-box, only to prove the stream reaches them). */
    const watch = (index: IndexUnderTest): IndexUnderTest => {
      const self = index as unknown as { compact?: () => void };
      const compact = self.compact;
      if (typeof compact === 'function') {
        self.compact = function (this: unknown): void {
          compactions++;
          compact.call(this);
        };
      }
      return index;
    };
    watch(subject);
    let step = 0;
    let maxEntries = 0;
    const log: string[] = [];
    const run = (action: FleetAction): void => {
      if (action.kind === 'snapshot') {
        oracle = reference.restore(oracle.snapshot());
        subject = watch(optimized.restore(subject.snapshot()));
      } else if (action.kind === 'removeWorker') {
        oracle.removeWorker(action.workerId, action.dpRank);
        subject.removeWorker(action.workerId, action.dpRank);
      } else {
        const want = oracle.apply(action.event);
        const got = subject.apply(action.event);
        if (got.applied !== want.applied || got.error !== want.error) {
          throw new Mismatch(`step ${step}: apply(${show(action.event).slice(0, 400)}) = ${show(got)}, expected ${show(want)}`);
        }
      }
      log.push(action.kind === 'apply' ? action.event.type : action.kind);
    };
    // Phases: grow; eviction waves (frees thousands of blocks: compaction); mixed; waves again; mixed.
    const phases = [
      { steps: 350, store: 0.9, wave: 0.0, rare: 0.005 },
      { steps: 120, store: 0.25, wave: 0.6, rare: 0.01 },
      { steps: 250, store: 0.6, wave: 0.05, rare: 0.02 },
      { steps: 120, store: 0.2, wave: 0.7, rare: 0.01 },
      { steps: 150, store: 0.6, wave: 0.05, rare: 0.02 },
    ];
    for (const phase of phases) {
      for (let i = 0; i < phase.steps; i++, step++) {
        const r = (step * 0.6180339887) % 1; // deterministic spread, independent of the stream's PRNG
        const actions =
          r < phase.rare ? stream.rare() : r < phase.rare + phase.wave ? stream.evict(true) : r < phase.rare + phase.wave + phase.store ? stream.store() : stream.evict(false);
        for (const action of actions) run(action);
        maxEntries = Math.max(maxEntries, oracle.stats().entries);
        if (step % 25 === 0) compareIndexes(oracle, subject, stream.queries(5), `step ${step}`);
      }
      compareIndexes(oracle, subject, stream.queries(20), `end of phase at step ${step}`);
    }
    expect(maxEntries).toBeGreaterThan(20_000);
    for (const w of oracle.workers()) run({ kind: 'apply', event: { type: 'cleared', workerId: w.workerId, dpRank: w.dpRank } });
    compareIndexes(oracle, subject, stream.queries(4), 'after clearing everything');
    expect(subject.stats()).toMatchObject({ entries: 0, nodes: baselineNodes });
    expect(compactions, 'the stream should make RadixIndex compact its block pool').toBeGreaterThan(0);
  });
});
