/**
 * One readable test per rule of docs/INDEX-SEMANTICS.md (DESIGN §4), run against the reference
 * index and the optimized RadixIndex alike.
 */
import { describe, expect, it } from 'vitest';
import type { KvEvent } from '../src/radix/types.js';
import {
  cleared,
  implementations,
  observe,
  removed,
  scoreList,
  stored,
  workerList,
  type IndexUnderTest,
} from './helpers/index-impls.js';

// Tokens hashes t1..t9 and block hashes b1..b9 of a "main" chain, plus other ids.
const t = (i: number): bigint => 100n + BigInt(i);
const b = (i: number): bigint => 1000n + BigInt(i);
/** `[b(i), t(i)]` for i in [from, to]. */
const chain = (from: number, to: number): Array<[bigint, bigint]> => {
  const out: Array<[bigint, bigint]> = [];
  for (let i = from; i <= to; i++) out.push([b(i), t(i)]);
  return out;
};
/** Query t(1)..t(n). */
const q = (n: number): bigint[] => Array.from({ length: n }, (_, i) => t(i + 1));

const U64_MAX = (1n << 64n) - 1n;
const PROBES = [q(9), [t(7)], [t(7), t(8)], [t(1), t(3)], [t(5)], [U64_MAX]];

describe.each(implementations)('index rules: %s', (_name, impl) => {
  const fresh = (): IndexUnderTest => impl.create();

  describe('stored', () => {
    it('stores a chain from the root; the overlap is the held prefix', () => {
      const index = fresh();
      expect(index.apply(stored('w', chain(1, 3)))).toEqual({ applied: 3 });
      expect(index.findMatches(q(5)).get('w')).toBe(3);
      expect(index.findMatches(q(2)).get('w')).toBe(2);
      expect(index.findMatches([t(1), t(9)]).get('w')).toBe(1);
      expect(index.findMatches([t(2), t(3)]).get('w')).toBe(0); // t2 alone is a different path
      expect(index.findMatches(q(5)).tiers('w')).toEqual({ device: 3, host: 0, disk: 0 });
      expect(index.blockCount('w')).toBe(3);
      expect(workerList(index)).toEqual([{ workerId: 'w', dpRank: 0 }]);
    });

    it('continues a chain from a parent the same worker holds', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 3)));
      expect(index.apply(stored('w', chain(4, 5), { parentHash: b(3) }))).toEqual({ applied: 2 });
      expect(index.findMatches(q(9)).get('w')).toBe(5);
      // A parent in the middle of the chain starts a branch.
      expect(index.apply(stored('w', [[b(7), t(7)]], { parentHash: b(1) }))).toEqual({ applied: 1 });
      expect(index.findMatches([t(1), t(7)]).get('w')).toBe(2);
      expect(index.findMatches([t(7)]).get('w')).toBe(0);
    });

    it('parentHash null is a root chain', () => {
      const index = fresh();
      expect(index.apply(stored('w', chain(1, 2), { parentHash: null }))).toEqual({ applied: 2 });
      expect(index.findMatches(q(2)).get('w')).toBe(2);
    });

    it("rejects a parent held only by another worker (PARENT_NOT_FOUND) and changes nothing", () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 3)));
      index.apply(stored('b', [[b(8), t(8)]]));
      const before = observe(index, PROBES);
      expect(index.apply(stored('b', chain(4, 5), { parentHash: b(3) }))).toEqual({
        applied: 0,
        error: 'PARENT_NOT_FOUND',
      });
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('rejects a parent nobody holds, and a parent held by another dpRank of the same worker', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2), { dpRank: 1 }));
      index.apply(stored('w', [[b(8), t(8)]]));
      const before = observe(index, PROBES);
      expect(index.apply(stored('w', chain(3, 3), { parentHash: 4242n }))).toEqual({
        applied: 0,
        error: 'PARENT_NOT_FOUND',
      });
      expect(index.apply(stored('w', chain(3, 3), { parentHash: b(2) }))).toEqual({
        applied: 0,
        error: 'PARENT_NOT_FOUND',
      });
      expect(observe(index, PROBES)).toEqual(before);
      expect(index.apply(stored('w', chain(3, 3), { parentHash: b(2), dpRank: 1 }))).toEqual({ applied: 1 });
    });

    it('accepts a parent held only in the host tier (any tier counts)', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 1), { tier: 'host' }));
      expect(index.apply(stored('w', chain(2, 2), { parentHash: b(1) }))).toEqual({ applied: 1 });
      const scores = index.findMatches(q(3));
      expect(scores.get('w')).toBe(2);
      expect(scores.tiers('w')).toEqual({ device: 1, host: 1, disk: 0 });
    });

    it('a rejected event still makes its worker known (but stores nothing)', () => {
      const index = fresh();
      expect(index.apply(stored('late', chain(1, 1), { parentHash: b(9) })).error).toBe('PARENT_NOT_FOUND');
      expect(workerList(index)).toEqual([{ workerId: 'late', dpRank: 0 }]);
      expect(index.blockCount('late')).toBe(0);
      expect(index.stats().entries).toBe(0);
    });

    it('storing what is already held is a no-op (applied counts only new entries)', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      expect(index.apply(stored('w', chain(1, 2)))).toEqual({ applied: 0 });
      expect(index.apply(stored('w', chain(1, 4)))).toEqual({ applied: 2 });
      expect(index.apply(stored('w', chain(2, 3), { parentHash: b(1) }))).toEqual({ applied: 0 });
      expect(index.blockCount('w')).toBe(4);
      expect(index.stats().entries).toBe(4);
    });

    it('the same block in another tier is a new entry but not a new block', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      expect(index.apply(stored('w', chain(1, 2), { tier: 'host' }))).toEqual({ applied: 2 });
      expect(index.apply(stored('w', chain(1, 2), { tier: 'host' }))).toEqual({ applied: 0 });
      expect(index.blockCount('w')).toBe(2);
      expect(index.stats().entries).toBe(2);
      expect(index.findMatches(q(2)).tiers('w')).toEqual({ device: 2, host: 0, disk: 0 });
    });

    it('an empty blocks list applies 0 (and still needs a known parent)', () => {
      const index = fresh();
      expect(index.apply(stored('w', []))).toEqual({ applied: 0 });
      expect(index.apply(stored('w', [], { parentHash: b(1) }))).toEqual({ applied: 0, error: 'PARENT_NOT_FOUND' });
      index.apply(stored('w', chain(1, 1)));
      expect(index.apply(stored('w', [], { parentHash: b(1) }))).toEqual({ applied: 0 });
    });

    it('a block equal to its parent is INVALID_SEQUENCE and changes nothing', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      const before = observe(index, PROBES);
      expect(index.apply(stored('w', [[b(2), t(3)]], { parentHash: b(2) }))).toEqual({
        applied: 0,
        error: 'INVALID_SEQUENCE',
      });
      // Inside a chain: the second block repeats the first one's hash.
      expect(index.apply(stored('w', [[b(7), t(7)], [b(7), t(8)]]))).toEqual({
        applied: 0,
        error: 'INVALID_SEQUENCE',
      });
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('a block hash already naming a different path is INVALID_SEQUENCE; earlier blocks are not applied', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      const before = observe(index, PROBES);
      // b2 names [t1, t2]; here it would name [t7, t8]. The first block (b7 → [t7]) must not be stored.
      expect(index.apply(stored('w', [[b(7), t(7)], [b(2), t(8)]]))).toEqual({
        applied: 0,
        error: 'INVALID_SEQUENCE',
      });
      expect(observe(index, PROBES)).toEqual(before);
      expect(index.findMatches([t(7)]).get('w')).toBe(0);
      // ... and b7 was not bound either.
      expect(index.apply(stored('w', chain(8, 8), { parentHash: b(7) })).error).toBe('PARENT_NOT_FOUND');
    });

    it('a block hash repeated within one event (non-adjacent) is INVALID_SEQUENCE', () => {
      const index = fresh();
      index.apply(cleared('w'));
      const before = observe(index, PROBES);
      expect(index.apply(stored('w', [[b(7), t(7)], [b(8), t(8)], [b(7), t(9)]]))).toEqual({
        applied: 0,
        error: 'INVALID_SEQUENCE',
      });
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('the parent hash reused deeper in the chain is INVALID_SEQUENCE', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 1)));
      const before = observe(index, PROBES);
      expect(index.apply(stored('w', [[b(2), t(2)], [b(1), t(3)]], { parentHash: b(1) })).error).toBe(
        'INVALID_SEQUENCE',
      );
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('a block hash may name its own path again, and a second hash may name a held path', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      expect(index.apply(stored('w', [[b(1), t(1)]]))).toEqual({ applied: 0 });
      // b9 is a second name of [t1]; nothing new is held but b9 becomes a usable parent.
      expect(index.apply(stored('w', [[b(9), t(1)]]))).toEqual({ applied: 0 });
      expect(index.apply(stored('w', [[b(8), t(3)]], { parentHash: b(9) }))).toEqual({ applied: 1 });
      expect(index.findMatches([t(1), t(3)]).get('w')).toBe(2);
      expect(index.blockCount('w')).toBe(3);
    });

    it('block hashes are per cache: another worker may use the same hash for another path', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 2)));
      expect(index.apply(stored('b', [[b(2), t(5)]]))).toEqual({ applied: 1 });
      expect(index.apply(stored('a', [[b(2), t(2)]], { parentHash: b(1), dpRank: 1 })).error).toBe(
        'PARENT_NOT_FOUND',
      );
      expect(index.apply(stored('a', [[b(2), t(5)]], { dpRank: 1 }))).toEqual({ applied: 1 });
    });

    it('hashes are u64: 0, values ≥ 2^63, 2^64−1 and values equal in their low 32 bits are all distinct', () => {
      const index = fresh();
      const big = [0n, 1n << 63n, U64_MAX, 5n, 5n + (1n << 32n), (7n << 32n) + 5n, 0xffffffffn];
      index.apply(stored('w', big.map((h, i) => [U64_MAX - BigInt(i), h] as [bigint, bigint])));
      expect(index.findMatches(big).get('w')).toBe(big.length);
      expect(index.findMatches([0n, 1n << 63n, U64_MAX, 5n + (1n << 32n)]).get('w')).toBe(3);
      expect(index.findMatches([0n, (1n << 63n) + 1n]).get('w')).toBe(1);
      expect(index.findMatches([U64_MAX]).get('w')).toBe(0);
      expect(index.findMatches([1n << 32n]).get('w')).toBe(0);
      // Block hashes equal in the low 32 bits name different blocks.
      expect(index.apply(removed('w', [(U64_MAX - 3n) & 0xffffffffn]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(stored('w', [[(1n << 32n) | 0xfffffff9n, 77n]], { parentHash: U64_MAX - 6n }))).toEqual({
        applied: 1,
      });
      expect(index.findMatches([...big, 77n]).get('w')).toBe(big.length + 1);
    });
  });

  describe('removed', () => {
    it('removing a block in the middle keeps its descendants, which count again once it is re-stored', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 4)));
      expect(index.apply(removed('w', [b(2)]))).toEqual({ applied: 1 });
      expect(index.findMatches(q(4)).get('w')).toBe(1);
      expect(index.blockCount('w')).toBe(3);
      // b2 is gone as a name: it is no longer a valid parent.
      expect(index.apply(stored('w', chain(7, 7), { parentHash: b(2) })).error).toBe('PARENT_NOT_FOUND');
      // b3 (a descendant) still is.
      expect(index.apply(stored('w', chain(5, 5), { parentHash: b(4) }))).toEqual({ applied: 1 });
      expect(index.findMatches(q(5)).get('w')).toBe(1);
      expect(index.apply(stored('w', chain(2, 2), { parentHash: b(1) }))).toEqual({ applied: 1 });
      expect(index.findMatches(q(9)).get('w')).toBe(5);
    });

    it('an unknown hash is BLOCK_NOT_FOUND but the rest of the batch applies', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 3)));
      expect(index.apply(removed('w', [b(3), 4242n, b(2)]))).toEqual({ applied: 2, error: 'BLOCK_NOT_FOUND' });
      expect(index.blockCount('w')).toBe(1);
      expect(index.findMatches(q(3)).get('w')).toBe(1);
    });

    it('another worker\'s hash is unknown', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 1)));
      index.apply(stored('b', chain(2, 2)));
      expect(index.apply(removed('b', [b(1)]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.blockCount('a')).toBe(1);
    });

    it('removing in a tier the block is not held in is BLOCK_NOT_FOUND and changes nothing', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      const before = observe(index, PROBES);
      expect(index.apply(removed('w', [b(1)], { tier: 'host' }))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(removed('w', [b(2)], { tier: 'disk' }))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('a hash listed twice is removed once; the second is unknown', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      expect(index.apply(removed('w', [b(2), b(2)]))).toEqual({ applied: 1, error: 'BLOCK_NOT_FOUND' });
      expect(index.blockCount('w')).toBe(1);
    });

    it('removing one tier keeps the block (and its name) in the others', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 1)));
      index.apply(stored('w', chain(1, 1), { tier: 'host' }));
      expect(index.apply(removed('w', [b(1)]))).toEqual({ applied: 1 });
      expect(index.blockCount('w')).toBe(1);
      expect(index.findMatches(q(1)).tiers('w')).toEqual({ device: 0, host: 1, disk: 0 });
      expect(index.apply(removed('w', [b(1)]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(stored('w', chain(2, 2), { parentHash: b(1) }))).toEqual({ applied: 1 });
      expect(index.apply(removed('w', [b(1)], { tier: 'host' }))).toEqual({ applied: 1 });
      expect(index.apply(stored('w', chain(3, 3), { parentHash: b(1) })).error).toBe('PARENT_NOT_FOUND');
      expect(index.findMatches(q(2)).get('w')).toBe(0);
    });

    it('a second name of a path survives removal through the first name (the literal rule drops only the removed name)', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 1)));
      index.apply(stored('w', [[b(9), t(1)]])); // b9: a second name of [t1]
      expect(index.apply(removed('w', [b(1)]))).toEqual({ applied: 1 });
      expect(index.blockCount('w')).toBe(0);
      // b9 still names [t1] though nothing is held there: unknown for removal, valid as a parent.
      expect(index.apply(removed('w', [b(9)]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      // Other paths come and go meanwhile (an implementation that freed [t1] may reuse its slot).
      index.apply(stored('x', [[b(5), t(5)], [b(6), t(6)]]));
      index.apply(removed('x', [b(6)]));
      expect(index.apply(stored('w', [[b(2), t(2)]], { parentHash: b(9) }))).toEqual({ applied: 1 });
      expect(index.findMatches([t(1), t(2)]).get('w')).toBe(0); // the gap [t1] is not held
      expect(index.apply(stored('w', chain(1, 1)))).toEqual({ applied: 1 });
      expect(index.findMatches([t(1), t(2)]).get('w')).toBe(2);
      expect(index.findMatches([t(5), t(2)]).get('w')).toBe(0);
    });

    it('an empty removal applies 0 without error', () => {
      const index = fresh();
      expect(index.apply(removed('w', []))).toEqual({ applied: 0 });
    });
  });

  describe('tiers', () => {
    it('each block counts in its best tier (device > host > disk)', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      index.apply(stored('w', chain(3, 3), { parentHash: b(2), tier: 'host' }));
      index.apply(stored('w', chain(4, 4), { parentHash: b(3), tier: 'disk' }));
      index.apply(stored('w', chain(2, 2), { parentHash: b(1), tier: 'host' }));
      index.apply(stored('w', chain(1, 1), { tier: 'disk' }));
      index.apply(stored('w', chain(3, 3), { parentHash: b(2), tier: 'disk' }));
      const scores = index.findMatches(q(9));
      expect(scores.get('w')).toBe(4);
      expect(scores.tiers('w')).toEqual({ device: 2, host: 1, disk: 1 });
      expect(index.findMatches(q(3)).tiers('w')).toEqual({ device: 2, host: 1, disk: 0 });
      expect(index.blockCount('w')).toBe(4);
    });

    it('tier counts cover only the matched run and sum to the score', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 3), { tier: 'disk' }));
      index.apply(stored('b', chain(1, 1), { tier: 'host' }));
      const scores = index.findMatches(q(5));
      expect(scores.tiers('a')).toEqual({ device: 0, host: 0, disk: 3 });
      expect(scores.tiers('b')).toEqual({ device: 0, host: 1, disk: 0 });
      expect(scores.tiers('nobody')).toEqual({ device: 0, host: 0, disk: 0 });
    });
  });

  describe('cleared and removeWorker', () => {
    it('cleared drops every tier of that cache only; the worker stays known', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 3)));
      index.apply(stored('w', chain(1, 2), { tier: 'host' }));
      index.apply(stored('w', chain(1, 1), { dpRank: 1 }));
      index.apply(stored('x', chain(1, 2)));
      // The event's tier is ignored; applied counts (block, tier) entries.
      expect(index.apply(cleared('w', { tier: 'disk' }))).toEqual({ applied: 5 });
      expect(index.blockCount('w', 0)).toBe(0);
      expect(index.blockCount('w', 1)).toBe(1);
      expect(index.findMatches(q(3)).get('w')).toBe(0);
      expect(index.findMatches(q(3)).get('w', 1)).toBe(1);
      expect(index.findMatches(q(3)).get('x')).toBe(2);
      expect(workerList(index)).toContainEqual({ workerId: 'w', dpRank: 0 });
      // Names are gone too.
      expect(index.apply(stored('w', chain(4, 4), { parentHash: b(3) })).error).toBe('PARENT_NOT_FOUND');
      expect(index.apply(cleared('w'))).toEqual({ applied: 0 });
    });

    it('cleared makes an unknown worker known', () => {
      const index = fresh();
      expect(index.apply(cleared('new', { dpRank: 2 }))).toEqual({ applied: 0 });
      expect(workerList(index)).toEqual([{ workerId: 'new', dpRank: 2 }]);
    });

    it('removeWorker forgets one rank, or every rank when none is given', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      index.apply(stored('w', chain(1, 3), { dpRank: 1 }));
      index.apply(stored('w', chain(1, 1), { dpRank: 2 }));
      index.apply(stored('x', chain(1, 1)));
      index.removeWorker('w', 1);
      expect(workerList(index)).toEqual([
        { workerId: 'w', dpRank: 0 },
        { workerId: 'w', dpRank: 2 },
        { workerId: 'x', dpRank: 0 },
      ]);
      expect(index.findMatches(q(3)).get('w', 1)).toBe(0);
      expect(index.findMatches(q(3)).get('w')).toBe(2);
      index.removeWorker('w');
      expect(workerList(index)).toEqual([{ workerId: 'x', dpRank: 0 }]);
      expect(scoreList(index.findMatches(q(3)))).toEqual([{ workerId: 'x', dpRank: 0, blocks: 1 }]);
      expect(index.stats().entries).toBe(1);
      // Names are forgotten with the worker.
      expect(index.apply(stored('w', chain(3, 3), { parentHash: b(2) })).error).toBe('PARENT_NOT_FOUND');
    });

    it('removeWorker of an unknown worker or rank is a no-op', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      const before = observe(index, PROBES);
      index.removeWorker('nobody');
      index.removeWorker('w', 3);
      index.removeWorker('nobody', 0);
      expect(observe(index, PROBES)).toEqual(before);
    });

    it('blockCount(workerId) without a rank sums every rank; scores.get(workerId) is rank 0', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2), { dpRank: 1 }));
      index.apply(stored('w', chain(1, 1), { dpRank: 0 }));
      index.apply(stored('w', chain(1, 4), { dpRank: 5, tier: 'host' }));
      index.apply(stored('x', chain(1, 3)));
      expect(index.blockCount('w', 1)).toBe(2);
      expect(index.blockCount('w', 0)).toBe(1);
      expect(index.blockCount('w')).toBe(7);
      expect(index.blockCount('w', 2)).toBe(0);
      expect(index.blockCount('nobody')).toBe(0);
      expect(index.findMatches(q(2)).get('w')).toBe(1);
      index.apply(cleared('w', { dpRank: 5 }));
      expect(index.blockCount('w')).toBe(3);
      index.removeWorker('w', 1);
      expect(index.blockCount('w')).toBe(1);
    });

    it('dpRanks are separate caches', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 3), { dpRank: 0 }));
      index.apply(stored('w', chain(1, 1), { dpRank: 1, tier: 'host' }));
      const scores = index.findMatches(q(3));
      expect(scores.get('w')).toBe(3);
      expect(scores.get('w', 0)).toBe(3);
      expect(scores.get('w', 1)).toBe(1);
      expect(scores.tiers('w', 1)).toEqual({ device: 0, host: 1, disk: 0 });
      expect(index.blockCount('w', 1)).toBe(1);
      expect(index.apply(removed('w', [b(2)], { dpRank: 1 }))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
    });
  });

  describe('findMatches', () => {
    it('on an empty index and for empty queries: nothing', () => {
      const index = fresh();
      for (const query of [q(3), [], new BigUint64Array(0)]) {
        const scores = index.findMatches(query);
        expect(scores.size).toBe(0);
        expect([...scores]).toEqual([]);
        expect(scores.get('w')).toBe(0);
        expect(scores.tiers('w')).toEqual({ device: 0, host: 0, disk: 0 });
      }
      index.apply(stored('w', chain(1, 1)));
      expect(index.findMatches([]).size).toBe(0);
    });

    it('a miss scores nobody; iteration yields only workers with a score ≥ 1', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 4)));
      index.apply(stored('b', chain(1, 2)));
      index.apply(stored('c', chain(2, 3))); // [t2, t3] from the root: never a prefix of q(n)
      index.apply(cleared('d'));
      expect(index.findMatches([t(9)]).size).toBe(0);
      const scores = index.findMatches(q(3));
      expect(scores.size).toBe(2);
      expect(scoreList(scores)).toEqual([
        { workerId: 'a', dpRank: 0, blocks: 3 },
        { workerId: 'b', dpRank: 0, blocks: 2 },
      ]);
      expect(scores.get('c')).toBe(0);
      expect(scores.get('d')).toBe(0);
    });

    it('diverging prompts share their common prefix', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 5)));
      index.apply(stored('b', [...chain(1, 2), [b(9), t(9)]]));
      expect(scoreList(index.findMatches([t(1), t(2), t(9)]))).toEqual([
        { workerId: 'a', dpRank: 0, blocks: 2 },
        { workerId: 'b', dpRank: 0, blocks: 3 },
      ]);
      expect(scoreList(index.findMatches(q(5)))).toEqual([
        { workerId: 'a', dpRank: 0, blocks: 5 },
        { workerId: 'b', dpRank: 0, blocks: 2 },
      ]);
    });

    it('earlyExit stops once a single worker remains; its score is the depth reached (a lower bound)', () => {
      const index = fresh();
      index.apply(stored('long', chain(1, 6)));
      index.apply(stored('short', chain(1, 2), { tier: 'host' }));
      const full = index.findMatches(q(9));
      expect(full.get('long')).toBe(6);
      expect(full.get('short')).toBe(2);
      const early = index.findMatches(q(9), { earlyExit: true });
      expect(early.get('long')).toBe(3); // S_3 = {long}: stop right there
      expect(early.get('short')).toBe(2);
      expect(early.tiers('long')).toEqual({ device: 3, host: 0, disk: 0 });
      expect(early.tiers('short')).toEqual({ device: 0, host: 2, disk: 0 });
      expect(early.size).toBe(2);
    });

    it('earlyExit with a single holder from the first block scores 1; with several holders it walks on', () => {
      const index = fresh();
      index.apply(stored('only', chain(1, 5)));
      index.apply(stored('other', chain(7, 7)));
      expect(index.findMatches(q(5), { earlyExit: true }).get('only')).toBe(1);
      index.apply(stored('twin', chain(1, 5)));
      const both = index.findMatches(q(5), { earlyExit: true });
      expect(both.get('only')).toBe(5);
      expect(both.get('twin')).toBe(5);
      expect(index.findMatches(q(5), { earlyExit: false }).get('only')).toBe(5);
    });

    it('earlyExit: several drop out at once, leaving one', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 8)));
      index.apply(stored('b', chain(1, 3)));
      index.apply(stored('c', chain(1, 3), { dpRank: 4 }));
      const early = index.findMatches(q(9), { earlyExit: true });
      expect(scoreList(early)).toEqual([
        { workerId: 'a', dpRank: 0, blocks: 4 },
        { workerId: 'b', dpRank: 0, blocks: 3 },
        { workerId: 'c', dpRank: 4, blocks: 3 },
      ]);
    });

    it('accepts a BigUint64Array (also a view at an offset) and a bigint[] alike', () => {
      const index = fresh();
      const hashes = [U64_MAX, 1n << 63n, 12345n];
      index.apply(stored('a', hashes.map((h, i) => [BigInt(i + 1), h] as [bigint, bigint])));
      index.apply(stored('b', [[1n, U64_MAX]], { tier: 'disk' }));
      const fromArray = index.findMatches([...hashes, 9n]);
      const backing = new BigUint64Array([7n, ...hashes, 9n]);
      for (const query of [new BigUint64Array([...hashes, 9n]), backing.subarray(1)]) {
        const scores = index.findMatches(query);
        expect(scoreList(scores)).toEqual(scoreList(fromArray));
        expect(scores.tiers('b')).toEqual(fromArray.tiers('b'));
      }
      expect(fromArray.get('a')).toBe(3);
      expect(index.findMatches(backing).size).toBe(0);
    });

    it('a result stays valid after later calls and later events (it is a value, not a view)', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 4)));
      index.apply(stored('b', chain(1, 2), { tier: 'host' }));
      const first = index.findMatches(q(4));
      const firstU32 = index.findMatchesU32!(new Uint32Array(new BigUint64Array(q(4)).buffer), 4);
      const second = index.findMatches([t(1), t(9)], { earlyExit: true });
      index.apply(cleared('a'));
      index.apply(stored('c', chain(1, 3)));
      index.findMatches(q(3));
      for (const scores of [first, firstU32]) {
        expect(scoreList(scores)).toEqual([
          { workerId: 'a', dpRank: 0, blocks: 4 },
          { workerId: 'b', dpRank: 0, blocks: 2 },
        ]);
        expect(scores.tiers('b')).toEqual({ device: 0, host: 2, disk: 0 });
        expect(scores.get('c')).toBe(0);
      }
      expect(scoreList(second)).toEqual([
        { workerId: 'a', dpRank: 0, blocks: 1 },
        { workerId: 'b', dpRank: 0, blocks: 1 },
      ]);
      // Iterating twice yields the same.
      expect([...first]).toEqual([...first]);
    });

    it('findMatchesU32 over (lo, hi) pairs equals findMatches', () => {
      const index = fresh();
      expect(typeof index.findMatchesU32).toBe('function');
      const hashes = [U64_MAX, 1n << 63n, 0xffffffffn, 1n << 32n];
      index.apply(stored('a', hashes.map((h, i) => [BigInt(i + 1), h] as [bigint, bigint])));
      index.apply(stored('b', [[1n, U64_MAX], [2n, 1n << 63n]], { tier: 'host' }));
      const big = new BigUint64Array([...hashes, 5n]);
      const pairs = new Uint32Array(big.buffer);
      for (const count of [0, 1, 2, 4, 5]) {
        for (const earlyExit of [false, true]) {
          const expected = index.findMatches(big.subarray(0, count), { earlyExit });
          const got = index.findMatchesU32!(pairs, count, { earlyExit });
          expect(scoreList(got)).toEqual(scoreList(expected));
          expect(got.tiers('b')).toEqual(expected.tiers('b'));
        }
      }
    });
  });

  describe('names across caches', () => {
    it('the same block hash may name different paths in different caches, independently', () => {
      const index = fresh();
      index.apply(stored('a', [[7n, t(1)]]));
      index.apply(stored('b', [[7n, t(2)]]));
      expect(index.apply(stored('b', [[8n, t(3)]], { parentHash: 7n }))).toEqual({ applied: 1 });
      expect(index.findMatches([t(2), t(3)]).get('b')).toBe(2);
      expect(index.findMatches([t(1), t(3)]).size).toBe(1); // only a, for [t1]
      expect(index.apply(removed('a', [7n]))).toEqual({ applied: 1 });
      // b's 7 still names [t2]; a's is gone.
      expect(index.apply(stored('b', [[9n, t(4)]], { parentHash: 7n }))).toEqual({ applied: 1 });
      expect(index.apply(stored('a', [[9n, t(4)]], { parentHash: 7n })).error).toBe('PARENT_NOT_FOUND');
      // A third cache may now name [t1] with 7, or [t2] with another hash.
      expect(index.apply(stored('c', [[7n, t(1)]]))).toEqual({ applied: 1 });
      expect(index.apply(stored('c', [[70n, t(2)]]))).toEqual({ applied: 1 });
      expect(index.apply(removed('b', [7n]))).toEqual({ applied: 1 });
      expect(index.apply(removed('c', [70n, 7n]))).toEqual({ applied: 2 });
      expect(index.findMatches([t(2), t(4)]).get('b')).toBe(0);
      expect(index.blockCount('b')).toBe(2);
    });

    it('caches naming the same path differently keep their own names when the first namer leaves', () => {
      const index = fresh();
      index.apply(stored('a', chain(1, 3)));
      index.apply(stored('b', [[51n, t(1)], [52n, t(2)], [53n, t(3)]]));
      index.removeWorker('a');
      expect(index.apply(removed('b', [b(2)]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(removed('b', [52n]))).toEqual({ applied: 1 });
      expect(index.apply(stored('b', [[54n, t(4)]], { parentHash: 53n }))).toEqual({ applied: 1 });
      // A newcomer may use a's old names for other paths.
      expect(index.apply(stored('c', [[b(1), t(7)], [b(2), t(8)]]))).toEqual({ applied: 2 });
      expect(index.findMatches([t(7), t(8)]).get('c')).toBe(2);
      expect(index.findMatches(q(4)).get('b')).toBe(1);
    });

    it('several names of one path: each removal drops one tier entry and, when nothing is left, only its own name', () => {
      const index = fresh();
      index.apply(stored('w', [[1n, t(1)]]));
      index.apply(stored('w', [[2n, t(1)]], { tier: 'host' })); // second name, and the host tier
      index.apply(stored('w', [[3n, t(1)]], { tier: 'disk' }));
      expect(index.findMatches([t(1)]).tiers('w')).toEqual({ device: 1, host: 0, disk: 0 });
      expect(index.apply(removed('w', [3n]))).toEqual({ applied: 1 }); // device entry, through name 3
      expect(index.findMatches([t(1)]).tiers('w')).toEqual({ device: 0, host: 1, disk: 0 });
      expect(index.apply(removed('w', [1n], { tier: 'host' }))).toEqual({ applied: 1 });
      expect(index.apply(removed('w', [1n], { tier: 'host' }))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(removed('w', [2n], { tier: 'disk' }))).toEqual({ applied: 1 }); // last entry, name 2 dropped
      expect(index.blockCount('w')).toBe(0);
      // Names 1 and 3 still name [t1]: valid parents, unknown for removal; name 2 is gone.
      expect(index.apply(removed('w', [1n, 3n], { tier: 'disk' }))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
      expect(index.apply(stored('w', [[4n, t(2)]], { parentHash: 2n })).error).toBe('PARENT_NOT_FOUND');
      expect(index.apply(stored('w', [[4n, t(2)]], { parentHash: 3n }))).toEqual({ applied: 1 });
      expect(index.apply(stored('w', [[5n, t(3)]], { parentHash: 1n }))).toEqual({ applied: 1 });
      // 1 still names [t1], so it cannot name another path.
      expect(index.apply(stored('w', [[1n, t(9)]])).error).toBe('INVALID_SEQUENCE');
      expect(index.apply(stored('w', [[1n, t(1)]]))).toEqual({ applied: 1 });
      expect(scoreList(index.findMatches([t(1), t(2)]))).toEqual([{ workerId: 'w', dpRank: 0, blocks: 2 }]);
    });

    it('a worker re-added after removeWorker (or a newcomer) inherits no names', () => {
      const index = fresh();
      index.apply(stored('w', chain(1, 2)));
      index.apply(stored('w', [[99n, t(1)]])); // a second name
      index.removeWorker('w');
      for (const id of ['w', 'newcomer']) {
        expect(index.apply(stored(id, chain(3, 3), { parentHash: b(2) })).error).toBe('PARENT_NOT_FOUND');
        expect(index.apply(stored(id, chain(3, 3), { parentHash: 99n })).error).toBe('PARENT_NOT_FOUND');
        expect(index.apply(removed(id, [b(1), 99n]))).toEqual({ applied: 0, error: 'BLOCK_NOT_FOUND' });
        expect(index.apply(stored(id, [[99n, t(5)]]))).toEqual({ applied: 1 });
      }
      expect(index.stats().entries).toBe(2);
    });
  });

  describe('scale', () => {
    it('300 caches holding one chain: every score, early exit, and clearing half of them', () => {
      const index = fresh();
      const baseline = index.stats().nodes;
      for (let i = 0; i < 300; i++) {
        const workerId = `w${i % 150}`;
        const dpRank = i < 150 ? 0 : 1;
        index.apply(stored(workerId, chain(1, 1 + (i % 5)), { dpRank, tier: i % 3 === 0 ? 'host' : 'device' }));
      }
      const scores = index.findMatches(q(9));
      expect(scores.size).toBe(300);
      for (let i = 0; i < 300; i++) {
        expect(scores.get(`w${i % 150}`, i < 150 ? 0 : 1)).toBe(1 + (i % 5));
        expect(scores.tiers(`w${i % 150}`, i < 150 ? 0 : 1)[i % 3 === 0 ? 'host' : 'device']).toBe(1 + (i % 5));
      }
      const early = index.findMatches(q(9), { earlyExit: true });
      expect(early.size).toBe(300); // 60 caches reach depth 5: never a single one
      for (let i = 0; i < 150; i += 2) index.apply(cleared(`w${i}`, { dpRank: 0 }));
      for (let i = 1; i < 150; i += 2) index.removeWorker(`w${i}`);
      expect(index.findMatches(q(9)).size).toBe(75);
      expect(index.workers().length).toBe(150);
      for (let i = 0; i < 150; i += 2) index.removeWorker(`w${i}`);
      expect(index.stats()).toMatchObject({ entries: 0, nodes: baseline });
    });

    it('a 20,000-block chain: stored in one event, matched, cut in the middle, restored', () => {
      const index = fresh();
      const n = 20_000;
      const tokens = Array.from({ length: n }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) & U64_MAX);
      index.apply(stored('deep', tokens.map((h, i) => [BigInt(i + 1), h] as [bigint, bigint])));
      index.apply(stored('shallow', tokens.slice(0, 100).map((h, i) => [BigInt(i + 1), h] as [bigint, bigint])));
      expect(index.findMatches(tokens).get('deep')).toBe(n);
      expect(index.findMatches(new BigUint64Array(tokens)).get('shallow')).toBe(100);
      expect(index.findMatches(tokens, { earlyExit: true }).get('deep')).toBe(101);
      expect(index.apply(removed('deep', [10_000n]))).toEqual({ applied: 1 });
      expect(index.findMatches(tokens).get('deep')).toBe(9_999);
      const restored = impl.restore(index.snapshot());
      expect(restored.findMatches(tokens).get('deep')).toBe(9_999);
      expect(restored.apply(stored('deep', [[10_000n, tokens[9_999]!]], { parentHash: 9_999n }))).toEqual({ applied: 1 });
      expect(restored.findMatches(tokens).get('deep')).toBe(n);
      expect(restored.blockCount('deep')).toBe(n);
    });
  });

  describe('memory', () => {
    it('clearing and removing every worker frees every block', () => {
      const index = fresh();
      const baseline = index.stats().nodes;
      index.apply(stored('a', chain(1, 6)));
      index.apply(stored('b', [...chain(1, 2), [b(9), t(9)]]));
      index.apply(stored('b', chain(3, 4), { parentHash: b(2), tier: 'host' }));
      index.apply(stored('c', chain(1, 3), { dpRank: 1, tier: 'disk' }));
      index.apply(removed('a', [b(3)]));
      expect(index.stats().entries).toBe(5 + 5 + 3);
      expect(index.stats().nodes).toBeGreaterThan(baseline);
      index.apply(cleared('a'));
      index.removeWorker('b');
      index.apply(cleared('c', { dpRank: 1 }));
      expect(index.stats().entries).toBe(0);
      expect(index.stats().nodes).toBe(baseline);
      expect(index.findMatches(q(9)).size).toBe(0);
      // Still fully usable.
      expect(index.apply(stored('a', chain(1, 2)))).toEqual({ applied: 2 });
      expect(index.findMatches(q(9)).get('a')).toBe(2);
    });

    it('removing every block one by one (middle first) frees every block', () => {
      const index = fresh();
      const baseline = index.stats().nodes;
      index.apply(stored('a', chain(1, 5)));
      index.apply(stored('b', chain(1, 3)));
      index.apply(stored('a', chain(1, 2), { tier: 'host' }));
      index.apply(removed('a', [b(3), b(1), b(5)]));
      index.apply(removed('b', [b(2)]));
      index.apply(removed('a', [b(2), b(4)]));
      index.apply(removed('a', [b(1), b(2)], { tier: 'host' }));
      index.apply(removed('b', [b(3), b(1)]));
      expect(index.stats().entries).toBe(0);
      expect(index.stats().nodes).toBe(baseline);
      expect(workerList(index).length).toBe(2);
    });
  });

  describe('validation: bad input throws and changes nothing', () => {
    const TOO_BIG = 1n << 64n;
    const block = { blockHash: b(5), tokensHash: t(5) };
    const typeErrors: Array<[string, unknown]> = [
      ['null event', null],
      ['number event', 42],
      ['string event', 'stored'],
      ['unknown type', { type: 'bogus', workerId: 'w' }],
      ['missing type', { workerId: 'w', blocks: [block] }],
      ['missing workerId', { type: 'stored', blocks: [block] }],
      ['numeric workerId', { type: 'cleared', workerId: 7 }],
      ['bad tier', { type: 'stored', workerId: 'w', tier: 'gpu', blocks: [block] }],
      ['numeric tier', { type: 'removed', workerId: 'w', tier: 1, blockHashes: [b(1)] }],
      ['missing blocks', { type: 'stored', workerId: 'w' }],
      ['blocks not an array', { type: 'stored', workerId: 'w', blocks: 'x' }],
      ['null block', { type: 'stored', workerId: 'w', blocks: [null] }],
      ['number block', { type: 'stored', workerId: 'w', blocks: [42] }],
      ['block without tokensHash', { type: 'stored', workerId: 'w', blocks: [{ blockHash: 1n }] }],
      ['block without blockHash', { type: 'stored', workerId: 'w', blocks: [{ tokensHash: 1n }] }],
      ['number blockHash', { type: 'stored', workerId: 'w', blocks: [{ blockHash: 5, tokensHash: 1n }] }],
      ['string tokensHash', { type: 'stored', workerId: 'w', blocks: [{ blockHash: 5n, tokensHash: '1' }] }],
      ['negative blockHash', { type: 'stored', workerId: 'w', blocks: [{ blockHash: -1n, tokensHash: 1n }] }],
      ['2^64 tokensHash', { type: 'stored', workerId: 'w', blocks: [{ blockHash: 1n, tokensHash: TOO_BIG }] }],
      ['bad second block', { type: 'stored', workerId: 'w', blocks: [block, { blockHash: 6n, tokensHash: TOO_BIG + 3n }] }],
      ['number parentHash', { type: 'stored', workerId: 'w', parentHash: 1001, blocks: [block] }],
      ['string parentHash', { type: 'stored', workerId: 'w', parentHash: '1001', blocks: [block] }],
      ['negative parentHash', { type: 'stored', workerId: 'w', parentHash: -1n, blocks: [block] }],
      ['2^64 parentHash', { type: 'stored', workerId: 'w', parentHash: TOO_BIG, blocks: [block] }],
      ['missing blockHashes', { type: 'removed', workerId: 'w' }],
      ['blockHashes not an array', { type: 'removed', workerId: 'w', blockHashes: 1001n }],
      ['number in blockHashes', { type: 'removed', workerId: 'w', blockHashes: [b(1), 1002] }],
      ['2^64 in blockHashes', { type: 'removed', workerId: 'w', blockHashes: [b(1), TOO_BIG] }],
      ['negative in blockHashes', { type: 'removed', workerId: 'w', blockHashes: [-5n] }],
    ];
    const rangeErrors: Array<[string, unknown]> = [
      ['negative dpRank', { type: 'stored', workerId: 'w', dpRank: -1, blocks: [block] }],
      ['fractional dpRank', { type: 'removed', workerId: 'w', dpRank: 0.5, blockHashes: [b(1)] }],
      ['unsafe dpRank', { type: 'cleared', workerId: 'w', dpRank: 2 ** 53 }],
      ['NaN dpRank', { type: 'cleared', workerId: 'w', dpRank: Number.NaN }],
      ['Infinity dpRank', { type: 'cleared', workerId: 'w', dpRank: Infinity }],
      ['string dpRank', { type: 'cleared', workerId: 'w', dpRank: '1' }],
      ['negative eventId', { type: 'stored', workerId: 'w', eventId: -1, blocks: [block] }],
      ['fractional eventId', { type: 'cleared', workerId: 'w', eventId: 1.5 }],
    ];

    const setup = (): IndexUnderTest => {
      const index = fresh();
      index.apply(stored('w', chain(1, 4)));
      index.apply(stored('w', chain(1, 2), { tier: 'host' }));
      index.apply(stored('v', chain(1, 1), { dpRank: 1 }));
      return index;
    };
    const probes = [...PROBES, [t(1), t(2), t(3), t(4), t(5)]];

    it.each(typeErrors)('TypeError: %s', (_what, event) => {
      const index = setup();
      const before = observe(index, probes);
      const bytes = index.snapshot();
      expect(() => index.apply(event as KvEvent)).toThrow(TypeError);
      expect(observe(index, probes)).toEqual(before);
      expect(index.snapshot()).toEqual(bytes);
      // And the index goes on working.
      expect(index.apply(stored('w', chain(5, 5), { parentHash: b(4) }))).toEqual({ applied: 1 });
    });

    it.each(rangeErrors)('RangeError: %s', (_what, event) => {
      const index = setup();
      const before = observe(index, probes);
      const bytes = index.snapshot();
      expect(() => index.apply(event as KvEvent)).toThrow(RangeError);
      expect(observe(index, probes)).toEqual(before);
      expect(index.snapshot()).toEqual(bytes);
    });

    it('the worker of a throwing event does not become known', () => {
      const index = fresh();
      expect(() => index.apply({ type: 'stored', workerId: 'ghost', blocks: [{ blockHash: -1n, tokensHash: 1n }] })).toThrow(
        TypeError,
      );
      expect(() => index.apply({ type: 'cleared', workerId: 'ghost', dpRank: -2 })).toThrow(RangeError);
      expect(index.workers()).toEqual([]);
    });

    it('valid edge values are accepted: undefined tier, null parent, eventId 0, hashes 0 and 2^64−1', () => {
      const index = fresh();
      const event = {
        type: 'stored',
        workerId: 'w',
        eventId: 0,
        tier: undefined,
        parentHash: null,
        blocks: [{ blockHash: 0n, tokensHash: U64_MAX }, { blockHash: U64_MAX, tokensHash: 0n }],
      } as unknown as KvEvent;
      expect(index.apply(event)).toEqual({ applied: 2 });
      expect(index.findMatches([U64_MAX, 0n]).tiers('w')).toEqual({ device: 2, host: 0, disk: 0 });
      expect(index.apply(removed('w', [U64_MAX, 0n]))).toEqual({ applied: 2 });
    });

    const badQueries: Array<[string, unknown]> = [
      ['a string', 'abc'],
      ['undefined', undefined],
      ['null', null],
      ['numbers', [101, 102]],
      ['a negative bigint', [t(1), -1n]],
      ['2^64', [t(1), TOO_BIG]],
      ['a Uint32Array', new Uint32Array([101, 0])],
      ['a BigInt64Array', new BigInt64Array([101n])],
      ['mixed', [t(1), '102']],
    ];
    it.each(badQueries)('findMatches throws TypeError for %s', (_what, query) => {
      const index = setup();
      expect(() => index.findMatches(query as bigint[])).toThrow(TypeError);
      expect(() => index.findMatches(query as bigint[], { earlyExit: true })).toThrow(TypeError);
    });
  });
});
