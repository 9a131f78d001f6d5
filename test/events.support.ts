/** Shared helpers of the events tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KvEvent } from '../src/radix/types.js';

export interface VllmFixture {
  name: string;
  hex: string;
  routerBlockSize: number;
  dpRank: number;
  events: Array<Record<string, unknown>>;
  error?: string;
}

export function loadVllmFixtures(): VllmFixture[] {
  const path = fileURLToPath(new URL('../../shared/fixtures/vllm-kv-events.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { fixtures: VllmFixture[] }).fixtures;
}

/** An event without worker / rank / id, hashes as decimal strings (the fixtures' shape). */
export function fixtureShape(e: KvEvent): Record<string, unknown> {
  if (e.type === 'cleared') return { type: 'cleared' };
  if (e.type === 'removed') return { type: 'removed', tier: e.tier, blockHashes: e.blockHashes.map(String) };
  return {
    type: 'stored',
    parentHash: e.parentHash === null || e.parentHash === undefined ? null : String(e.parentHash),
    tier: e.tier,
    blocks: e.blocks.map((b) => ({ blockHash: String(b.blockHash), tokensHash: String(b.tokensHash) })),
  };
}

/** A deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomU64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

export function randomTokens(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * 50_000));
}
