/**
 * White-box tests of RadixIndex's data structures: after every step of random event streams the
 * structural invariants hold (`verify()`), scores agree with a brute-force model, splits/merges keep
 * nodes compact, and memory is reclaimed.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { RadixIndex } from '../src/radix/index.js';
import type { KvEvent, Tier } from '../src/radix/types.js';
import { ReferenceIndex } from './reference/index.js';

const TIERS: Tier[] = ['device', 'host', 'disk'];
const WORKERS = ['a', 'b', 'c'];

type Op =
  | { kind: 'event'; event: KvEvent }
  | { kind: 'removeWorker'; workerId: string; dpRank?: number }
  | { kind: 'snapshot' };

/** Small hash alphabets so paths, names and aliases collide often. */
const tokens = fc.integer({ min: 1, max: 4 }).map(BigInt);
const names = fc.integer({ min: 1, max: 24 }).map(BigInt);
const worker = fc.constantFrom(...WORKERS);
const rank = fc.constantFrom(0, 1);
const tier = fc.constantFrom(...TIERS);

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      workerId: worker,
      dpRank: rank,
      tier,
      parentHash: fc.option(names, { nil: undefined }),
      blocks: fc.array(fc.record({ blockHash: names, tokensHash: tokens }), { maxLength: 6 }),
    }).map((e): Op => ({ kind: 'event', event: { type: 'stored', ...e } })),
  },
  {
    weight: 3,
    arbitrary: fc.record({ workerId: worker, dpRank: rank, tier, blockHashes: fc.array(names, { maxLength: 6 }) })
      .map((e): Op => ({ kind: 'event', event: { type: 'removed', ...e } })),
  },
  { weight: 1, arbitrary: fc.record({ workerId: worker, dpRank: rank }).map((e): Op => ({ kind: 'event', event: { type: 'cleared', ...e } })) },
  { weight: 1, arbitrary: fc.record({ workerId: worker, dpRank: fc.option(rank, { nil: undefined }) }).map((e): Op => ({ kind: 'removeWorker', ...e })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'snapshot' }) },
);

function compare(index: RadixIndex, ref: ReferenceIndex, query: bigint[], earlyExit: boolean): void {
  const got = index.findMatches(query, { earlyExit });
  const want = ref.findMatches(query, { earlyExit });
  expect(got.size).toBe(want.size);
  for (const w of want) {
    expect(got.get(w.workerId, w.dpRank)).toBe(w.blocks);
    expect(got.tiers(w.workerId, w.dpRank)).toEqual(want.tiers(w.workerId, w.dpRank));
  }
}

describe('RadixIndex internals', () => {
  it('keeps its invariants and agrees with the reference on random streams', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.array(tokens, { maxLength: 8 }), { minLength: 4, maxLength: 4 }), (ops, queries) => {
        let index = new RadixIndex();
        const ref = new ReferenceIndex();
        for (const o of ops) {
          if (o.kind === 'event') expect(index.apply(o.event)).toEqual(ref.apply(o.event));
          else if (o.kind === 'removeWorker') {
            index.removeWorker(o.workerId, o.dpRank);
            ref.removeWorker(o.workerId, o.dpRank);
          } else index = RadixIndex.restore(index.snapshot());
          index.verify();
          for (const w of WORKERS) for (const r of [0, 1]) expect(index.blockCount(w, r)).toBe(ref.blockCount(w, r));
          expect(index.stats().entries).toBe(ref.stats().entries);
          for (const q of queries) {
            compare(index, ref, q, false);
            compare(index, ref, q, true);
          }
        }
        for (const w of WORKERS) {
          index.removeWorker(w);
          ref.removeWorker(w);
        }
        index.verify();
        expect(index.stats()).toMatchObject({ nodes: 0, entries: 0 });
      }),
      { numRuns: 400 },
    );
  });

  it('stores a shared prefix as one node and splits only where holders diverge', () => {
    const index = new RadixIndex();
    const chain = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ blockHash: BigInt(1000 + from + i), tokensHash: BigInt(from + i + 1) }));
    for (const w of ['a', 'b', 'c']) index.apply({ type: 'stored', workerId: w, blocks: chain(0, 100) });
    expect(index.stats().nodes).toBe(1);
    index.apply({ type: 'removed', workerId: 'b', blockHashes: [1050n] }); // middle block: head / gap / tail
    expect(index.stats().nodes).toBe(3);
    index.verify();
    index.apply({ type: 'stored', workerId: 'b', parentHash: 1049n, blocks: chain(50, 1) });
    expect(index.stats().nodes).toBe(1); // merged back
    index.verify();
    const q = new BigUint64Array(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
    expect(index.findMatches(q).get('b')).toBe(100);
  });

  it('appends a worker extending its own private tail in place', () => {
    const index = new RadixIndex();
    index.apply({ type: 'stored', workerId: 'a', blocks: [{ blockHash: 1n, tokensHash: 11n }] });
    for (let i = 2; i <= 50; i++) {
      index.apply({ type: 'stored', workerId: 'a', parentHash: BigInt(i - 1), blocks: [{ blockHash: BigInt(i), tokensHash: BigInt(10 + i) }] });
    }
    expect(index.stats().nodes).toBe(1);
    expect(index.blockCount('a')).toBe(50);
  });

  it('reclaims and compacts the block pool', () => {
    const index = new RadixIndex();
    for (let round = 0; round < 3; round++) {
      for (let w = 0; w < 20; w++) {
        const blocks = Array.from({ length: 500 }, (_, i) => ({ blockHash: BigInt(w * 1e6 + i + 1), tokensHash: BigInt(w * 1e6 + i + 1) }));
        index.apply({ type: 'stored', workerId: `w${w}`, blocks });
      }
      for (let w = 0; w < 20; w += 2) index.apply({ type: 'cleared', workerId: `w${w}` });
      index.verify();
      const q = new BigUint64Array(Array.from({ length: 500 }, (_, i) => BigInt(1e6 + i + 1)));
      expect(index.findMatches(q).get('w1')).toBe(500);
      for (let w = 1; w < 20; w += 2) index.apply({ type: 'cleared', workerId: `w${w}` });
      expect(index.stats()).toMatchObject({ nodes: 0, entries: 0 });
    }
  });

  it('compaction keeps canonical and alias names, scores and snapshots right', () => {
    const compactions = vi.spyOn(RadixIndex.prototype as unknown as { compact(): void }, 'compact');
    const index = new RadixIndex();
    const ref = new ReferenceIndex();
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Worker w names block i of chain c as (c, i) for even w (shared names) and (w, c, i) for odd w (aliases).
    const name = (w: number, c: number, i: number): bigint => BigInt(w % 2 === 0 ? c * 1000 + i + 1 : w * 1e6 + c * 1000 + i + 1);
    const tok = (c: number, i: number): bigint => BigInt(c * 1000 + i + 1) * 0x9e3779b97f4a7c15n % (1n << 64n);
    const held: Array<Set<number>> = Array.from({ length: 6 }, () => new Set());
    const CHAINS = 40;
    const both = (e: KvEvent): void => expect(index.apply(e)).toEqual(ref.apply(e));
    // Fill, then drop every other chain everywhere: holes all over the pool, so it compacts.
    for (let c = 0; c < CHAINS; c++) {
      for (let w = 0; w < 6; w++) {
        both({ type: 'stored', workerId: `w${w}`, blocks: Array.from({ length: 300 }, (_, i) => ({ blockHash: name(w, c, i), tokensHash: tok(c, i) })) });
        held[w]!.add(c);
      }
    }
    for (let c = 0; c < CHAINS; c += 2) {
      for (let w = 0; w < 6; w++) {
        both({ type: 'removed', workerId: `w${w}`, blockHashes: Array.from({ length: 300 }, (_, i) => name(w, c, 299 - i)) });
        held[w]!.delete(c);
      }
    }
    expect(compactions).toHaveBeenCalled();
    index.verify();
    for (let step = 0; step < 300; step++) {
      const w = rand(6);
      const c = rand(CHAINS);
      if (held[w]!.has(c) && rand(2) === 0) {
        const hashes = Array.from({ length: 300 }, (_, i) => name(w, c, 299 - i));
        both({ type: 'removed', workerId: `w${w}`, blockHashes: hashes });
        held[w]!.delete(c);
      } else {
        both({ type: 'stored', workerId: `w${w}`, blocks: Array.from({ length: 300 }, (_, i) => ({ blockHash: name(w, c, i), tokensHash: tok(c, i) })) });
        held[w]!.add(c);
      }
      if (step % 10 === 9) index.verify();
      if (step % 50 === 49) {
        const restored = RadixIndex.restore(index.snapshot());
        restored.verify();
        for (let qc = 0; qc < CHAINS; qc++) {
          const q = Array.from({ length: 300 }, (_, i) => tok(qc, i));
          compare(restored, ref, q, false);
          compare(index, ref, q, false);
        }
      }
    }
    expect(index.stats().entries).toBe(ref.stats().entries);
    compactions.mockRestore();
  });

  it('restore rejects corrupted, truncated and foreign buffers', () => {
    const index = new RadixIndex();
    index.apply({ type: 'stored', workerId: 'a', blocks: [{ blockHash: 1n, tokensHash: 2n }, { blockHash: 3n, tokensHash: 4n }] });
    const bytes = index.snapshot();
    expect(RadixIndex.restore(bytes).findMatches([2n, 4n]).get('a')).toBe(2);
    const flipped = bytes.slice();
    flipped[bytes.length - 9]! ^= 1;
    expect(() => RadixIndex.restore(flipped)).toThrow(/checksum/);
    expect(() => RadixIndex.restore(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    expect(() => RadixIndex.restore(new TextEncoder().encode('{"nodes":[]}............'))).toThrow(/magic/);
    const unaligned = new Uint8Array(bytes.length + 1);
    unaligned.set(bytes, 1);
    expect(RadixIndex.restore(unaligned.subarray(1)).blockCount('a')).toBe(2);
  });
});
