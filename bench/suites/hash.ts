/** Hashing throughput: our one-call-per-prompt XXH3 vs one xxhash-wasm h64 call per block. */
import Benchmark from 'benchmark';
import xxhash from 'xxhash-wasm';
import type { BenchContext } from '../lib/context.js';
import { progress } from '../lib/progress.js';
import { Rng } from '../lib/rng.js';
import { measureLatency } from '../lib/timer.js';

function hz(name: string, fn: () => void, maxTime: number): number {
  const b = new Benchmark(name, fn, { maxTime, minSamples: 5 });
  b.run({ async: false });
  if (b.error) throw b.error as Error;
  return b.hz;
}

/** hash.tokensPerSec (B = 16) and hash.128k.p50Us. */
export async function runHashSuite(ctx: BenchContext): Promise<void> {
  progress('hash: tokens/s at B=16 (ours: one call per prompt; baseline: xxhash-wasm h64 per block)');
  const hasher = await ctx.hasher(16);
  const { h64Raw } = await xxhash();
  const rng = new Rng(7);
  const B = 16;
  const tokens = new Uint32Array(ctx.profile.hash.tokens);
  for (let i = 0; i < tokens.length; i++) tokens[i] = rng.u32() % 151_936;
  const bytes = new Uint8Array(tokens.buffer);
  const perBlock = (t: Uint32Array): number => {
    const b = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    let x = 0;
    for (let off = 0; off + B * 4 <= b.length; off += B * 4) x ^= Number(h64Raw(b.subarray(off, off + B * 4), 1337n) & 1n);
    return x;
  };
  let sink = 0;
  // Interleaved, best of two rounds each: a neighbour's burst on the shared machine hits one round, not both.
  let ours = 0;
  let base = 0;
  for (let round = 0; round < 2; round++) {
    ours = Math.max(ours, hz('ours', () => (sink ^= hasher.blockHashesU32(tokens)[0]!), ctx.profile.hash.maxTimeS) * tokens.length);
    base = Math.max(base, hz('xxhash-wasm', () => (sink ^= perBlock(tokens)), ctx.profile.hash.maxTimeS) * tokens.length);
  }
  ctx.results.add({
    name: 'hash.tokensPerSec',
    unit: 'tokens/s',
    better: 'higher',
    values: { ours, 'xxhash-wasm': base },
    baselineImpl: 'xxhash-wasm',
    config: `B=16, ${tokens.length}-token prompt`,
    note: 'ours: XXH3-64 (Dynamo-exact), one wasm call per prompt; baseline: xxhash-wasm XXH64, one call per block',
  });

  const big = new Uint32Array(131_072);
  for (let i = 0; i < big.length; i++) big[i] = rng.u32() % 151_936;
  const lat = { warmup: 5, iterations: 200, maxMs: ctx.profile.hash.maxTimeS * 1000 };
  const o = measureLatency(() => (sink ^= hasher.blockHashesU32(big)[0]!), lat);
  const b = measureLatency(() => (sink ^= perBlock(big)), lat);
  ctx.results.add({
    name: 'hash.128k.p50Us',
    unit: 'µs',
    better: 'lower',
    values: { ours: o.p50Us, 'xxhash-wasm': b.p50Us },
    baselineImpl: 'xxhash-wasm',
    config: 'B=16, 131072-token prompt',
  });
  if (sink === 0.5) progress(String(sink + bytes.length));
}
