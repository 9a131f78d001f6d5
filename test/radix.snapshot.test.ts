/**
 * Snapshot / restore of both index implementations: exact round trips (checked against the literal
 * model), restored indexes that keep working and share nothing, and damaged or foreign bytes that
 * throw a clear Error instead of yielding an index.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Comparison } from './helpers/comparison.js';
import { prng, step, type Step } from './helpers/event-streams.js';
import { implementations, observe, optimized, reference, stored, type Implementation } from './helpers/index-impls.js';

const SEED = 424242;

/** A stream that builds a non-trivial state (several caches, tiers, removals, second names). */
function buildSteps(count: number, seed: number): Step[] {
  const [steps] = fc.sample(fc.array(step(10), { minLength: count, maxLength: count }), { seed, numRuns: 1 });
  return steps!.filter((s) => s.op !== 'snapshot');
}

/** Runs a stream into one implementation (and the model), checking as it goes. */
function built(impl: [string, Implementation], count = 400, seed = SEED): Comparison {
  const comparison = new Comparison(seed, [impl]);
  buildSteps(count, seed).forEach((s, i) => {
    comparison.run(s);
    if (i % 50 === 0) comparison.check(2);
  });
  comparison.check(8);
  return comparison;
}

/** Every offset below 128 and the last 16, and about 600 spread over the rest. */
function positions(length: number): number[] {
  const out: number[] = [];
  const stride = Math.max(1, Math.floor((length - 144) / 600));
  for (let at = 0; at < length; at += at < 128 || at >= length - 16 ? 1 : stride) out.push(at);
  return out;
}

const PROBES: bigint[][] = [[1n], [1n, 2n], [2n, 1n, 1n], [(1n << 64n) - 1n], [1n, 1n, 1n, 1n], [1n << 63n, 2n]];

describe.each(implementations)('snapshot: %s', (name, impl) => {
  it('round-trips exactly: the restored index matches the model, and its own snapshot is the same bytes', () => {
    const comparison = built([name, impl]);
    expect(comparison.model.entries()).toBeGreaterThan(10);
    const bytes = comparison.subjects[0]!.index.snapshot();
    expect(bytes).toBeInstanceOf(Uint8Array);
    comparison.restoreAll();
    comparison.check(24);
    expect(comparison.subjects[0]!.index.snapshot()).toEqual(bytes);
  });

  it('the restored index keeps working (the stream goes on, checked against the model)', () => {
    const comparison = built([name, impl], 300);
    comparison.restoreAll();
    buildSteps(300, SEED + 1).forEach((s, i) => {
      comparison.run(s);
      if (i % 5 === 0) comparison.check(3);
    });
    comparison.drain();
  });

  it('an empty index, and one whose caches are all cleared, round-trip (known workers kept)', () => {
    const empty = impl.restore(impl.create().snapshot());
    expect(empty.workers()).toEqual([]);
    expect(empty.stats().entries).toBe(0);
    expect(empty.apply(stored('w', [[1n, 2n]]))).toEqual({ applied: 1 });

    const index = impl.create();
    index.apply(stored('w', [[1n, 2n]], { dpRank: 3 }));
    index.apply({ type: 'cleared', workerId: 'w', dpRank: 3 });
    const restored = impl.restore(index.snapshot());
    expect(restored.workers()).toEqual([{ workerId: 'w', dpRank: 3 }]);
    expect(restored.findMatches([2n]).size).toBe(0);
  });

  it('names survive: parents, second names of dropped paths, removal by name', () => {
    const index = impl.create();
    index.apply(stored('w', [[11n, 1n], [12n, 2n]]));
    index.apply(stored('w', [[19n, 1n]])); // second name of [1]
    index.apply(stored('w', [[13n, 3n]], { parentHash: 12n, tier: 'host' }));
    index.apply({ type: 'removed', workerId: 'w', blockHashes: [11n] }); // [1] dropped; 19 still names it
    const restored = impl.restore(index.snapshot());
    expect(observe(restored, PROBES)).toEqual(observe(index, PROBES));
    expect(restored.apply(stored('w', [[14n, 4n]], { parentHash: 13n }))).toEqual({ applied: 1 });
    expect(restored.apply(stored('w', [[15n, 5n]], { parentHash: 19n }))).toEqual({ applied: 1 });
    expect(restored.apply({ type: 'removed', workerId: 'w', blockHashes: [12n], tier: 'device' })).toEqual({ applied: 1 });
    expect(restored.apply(stored('w', [[11n, 1n]]))).toEqual({ applied: 1 });
    expect(restored.findMatches([1n, 5n]).get('w')).toBe(2);
  });

  it('indexes restored from the same bytes, and the original, are independent', () => {
    const original = impl.create();
    original.apply(stored('w', [[11n, 1n], [12n, 2n], [13n, 3n]]));
    original.apply(stored('v', [[11n, 1n]], { tier: 'disk' }));
    const bytes = original.snapshot();
    const copy = bytes.slice();
    const a = impl.restore(bytes);
    const b = impl.restore(bytes);
    const before = observe(original, PROBES);
    a.apply({ type: 'removed', workerId: 'w', blockHashes: [12n] });
    a.apply(stored('x', [[21n, 1n], [22n, 2n]]));
    a.apply({ type: 'cleared', workerId: 'v' });
    original.apply(stored('w', [[14n, 4n]], { parentHash: 13n }));
    expect(observe(b, PROBES)).toEqual(before);
    expect(bytes).toEqual(copy);
    expect(impl.restore(bytes).findMatches([1n, 2n, 3n, 4n]).get('w')).toBe(3);
    expect(a.findMatches([1n, 2n, 3n]).get('w')).toBe(1);
    expect(original.findMatches([1n, 2n, 3n, 4n]).get('w')).toBe(4);
    // Scribbling over the bytes afterwards does not reach the restored indexes.
    bytes.fill(0);
    expect(observe(b, PROBES)).toEqual(before);
  });

  it('restores from a Uint8Array at any byte offset of a larger buffer', () => {
    const index = impl.create();
    index.apply(stored('w', [[11n, 1n], [12n, (1n << 64n) - 1n]], { tier: 'host' }));
    const bytes = index.snapshot();
    for (const offset of [1, 2, 3, 4, 8]) {
      const backing = new Uint8Array(bytes.length + offset + 5);
      backing.set(bytes, offset);
      const view = backing.subarray(offset, offset + bytes.length);
      const restored = impl.restore(view);
      expect(observe(restored, PROBES)).toEqual(observe(index, PROBES));
      expect(restored.findMatches([1n, (1n << 64n) - 1n]).tiers('w')).toEqual({ device: 0, host: 2, disk: 0 });
    }
  });

  describe('damaged or foreign bytes throw a clear Error', () => {
    const small = (): Uint8Array => {
      const index = impl.create();
      index.apply(stored('w', [[11n, 1n], [12n, 2n]]));
      index.apply(stored('v', [[11n, 1n]], { dpRank: 2, tier: 'host' }));
      index.apply({ type: 'removed', workerId: 'w', blockHashes: [11n] });
      return index.snapshot();
    };
    const rejects = (bytes: unknown, what = 'these bytes'): void => {
      let thrown: unknown;
      let returned = false;
      try {
        impl.restore(bytes as Uint8Array);
        returned = true;
      } catch (e) {
        thrown = e;
      }
      expect(returned, `restore of ${what} returned an index instead of throwing`).toBe(false);
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(/restore|snapshot/i);
    };

    it('empty, truncated (every length in the header, ~600 in the body), or extended', () => {
      const bytes = small();
      rejects(new Uint8Array(0));
      for (const length of positions(bytes.length)) rejects(bytes.subarray(0, length), `the first ${length} of ${bytes.length} bytes`);
      rejects(Uint8Array.from([...bytes, 0]));
      rejects(Uint8Array.from([...bytes, ...bytes]));
    });

    it('a single bit flipped anywhere in the header, or at ~600 places in the body', () => {
      const bytes = small();
      for (const at of positions(bytes.length)) {
        for (const bit of [0, 7, at % 8]) {
          const damaged = bytes.slice();
          damaged[at]! ^= 1 << bit;
          rejects(damaged, `a ${bytes.length}-byte snapshot with bit ${bit} of byte ${at} flipped`);
        }
      }
    });

    it('flipped bytes in a large snapshot', () => {
      const bytes = built([name, impl], 300).subjects[0]!.index.snapshot();
      const random = prng(7);
      for (let i = 0; i < 300; i++) {
        const at = i < 48 ? i : Math.floor(random() * bytes.length);
        const damaged = bytes.slice();
        const mask = 1 + Math.floor(random() * 255);
        damaged[at]! ^= mask;
        rejects(damaged, `a ${bytes.length}-byte snapshot with byte ${at} xor ${mask}`);
      }
    });

    it('random bytes, also behind a valid header', () => {
      const bytes = small();
      const random = prng(11);
      for (let i = 0; i < 100; i++) {
        const noise = Uint8Array.from({ length: Math.floor(random() * 400) }, () => Math.floor(random() * 256));
        rejects(noise);
        const headed = bytes.slice();
        for (let j = Math.min(24 + (i % 40), headed.length - 1); j < headed.length; j++) headed[j] = Math.floor(random() * 256);
        rejects(headed);
      }
    });

    it('not a Uint8Array, or another format', () => {
      rejects(null);
      rejects(undefined);
      rejects('snapshot');
      rejects(new TextEncoder().encode(JSON.stringify({ nodes: [], caches: [] })));
      const other = impl === reference ? optimized : reference;
      const index = other.create();
      index.apply(stored('w', [[11n, 1n]]));
      rejects(index.snapshot());
      rejects(other.create().snapshot());
    });

    it('a failed restore leaves the source index untouched', () => {
      const index = impl.create();
      index.apply(stored('w', [[11n, 1n], [12n, 2n]]));
      const before = observe(index, PROBES);
      const bytes = index.snapshot();
      bytes[bytes.length - 1]! ^= 0xff;
      rejects(bytes);
      expect(observe(index, PROBES)).toEqual(before);
    });
  });
});
