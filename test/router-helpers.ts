/**
 * Shared helpers of the router tests: an index (RadixIndex or the reference), a seeded random source, a fake clock, prompt builders and stored-event builders.
 */
import { RadixIndex } from '../src/radix/index.js';
import { createHasher } from '../src/hashing/index.js';
import type { KvEvent, Tier } from '../src/radix/types.js';
import type { RouterIndex } from '../src/scoring/index.js';
import { ReferenceIndex } from './reference/index.js';

/** A fresh index for a router under test: the optimized one, or (`reference`) the test reference. */
export function newIndex(kind: 'radix' | 'reference' = 'radix'): RouterIndex {
  return kind === 'radix' ? new RadixIndex() : new ReferenceIndex();
}

export { mulberry32 as seeded } from './helpers/prng.js';

/** A settable clock. */
export function fakeClock(start = 1_000): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/** `n` tokens starting at `base` (distinct bases give disjoint prompts). */
export function prompt(n: number, base = 1): number[] {
  return Array.from({ length: n }, (_, i) => base + i);
}

/**
 * A stored event putting the first `blocks` blocks of `tokens` on a worker (root chain; block
 * hashes derived from the tokens hashes so different workers agree on names).
 */
export async function storedEvent(
  workerId: string,
  tokens: number[],
  blocks: number,
  opts: { blockSize?: number; dpRank?: number; tier?: Tier } = {},
): Promise<KvEvent> {
  const hasher = await createHasher({ blockSize: opts.blockSize ?? 16 });
  const hashes = hasher.blockHashes(tokens).slice(0, blocks);
  return {
    type: 'stored',
    workerId,
    dpRank: opts.dpRank ?? 0,
    tier: opts.tier ?? 'device',
    parentHash: null,
    blocks: [...hashes].map((h, i) => ({ blockHash: ((h ^ 0x5555n) + BigInt(i)) & 0xffff_ffff_ffff_ffffn, tokensHash: h })),
  };
}
