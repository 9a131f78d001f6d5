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
import { Comparison } from './helpers/comparison.js';
import { step, type Step } from './helpers/event-streams.js';
import { implementations } from './helpers/index-impls.js';

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
});
