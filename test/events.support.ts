/** Shared helpers of the events tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KvEvent } from '../src/radix/types.js';
import { encodeVllmBatch, type VllmEngineEvent } from '../src/events/index.js';
import { mulberry32 as rng } from './helpers/prng.js';

export interface VllmFixture {
  name: string;
  hex: string;
  routerBlockSize: number;
  dpRank: number;
  events: Array<Record<string, unknown>>;
  error?: string;
}

export function loadVllmFixtures(): VllmFixture[] {
  const path = fileURLToPath(new URL('./fixtures/vllm-kv-events.json', import.meta.url));
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

export { mulberry32 as rng } from './helpers/prng.js';

export function randomU64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

export function randomTokens(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * 50_000));
}


/** One published vLLM message of a simulated engine. */
export interface EngineMessage {
  seq: bigint;
  bytes: Uint8Array;
  events: VllmEngineEvent[];
}

/**
 * A small simulated vLLM engine: stores chains (extending a held block or from the root) and
 * evicts held blocks, publishing real msgpack batches with sequence numbers from 0.
 */
export function simulateEngine(seed: number, steps: number, engineBlockSize: number, opts: { dpRank?: number; style?: 'positional' | 'map' } = {}): { messages: EngineMessage[]; prompts: number[][] } {
  const r = rng(seed);
  const held: Array<{ hash: bigint; tokens: number[] }> = [];
  const prompts: number[][] = [];
  const messages: EngineMessage[] = [];
  let next = BigInt(seed) * 1_000_003n + 17n;
  for (let s = 0; s < steps; s++) {
    const events: VllmEngineEvent[] = [];
    const nEvents = 1 + Math.floor(r() * 3);
    for (let k = 0; k < nEvents; k++) {
      if (held.length > 0 && r() < 0.3) {
        const i = Math.floor(r() * held.length);
        const [gone] = held.splice(i, 1);
        events.push({ type: 'BlockRemoved', blockHashes: [gone!.hash] });
      } else {
        const parent = held.length > 0 && r() < 0.6 ? held[Math.floor(r() * held.length)]! : undefined;
        const n = 1 + Math.floor(r() * 4);
        const tokens = randomTokens(r, n * engineBlockSize);
        const hashes: bigint[] = [];
        let prefix = parent ? parent.tokens : [];
        for (let b = 0; b < n; b++) {
          next = (next * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
          hashes.push(next);
          prefix = prefix.concat(tokens.slice(b * engineBlockSize, (b + 1) * engineBlockSize));
          held.push({ hash: next, tokens: prefix });
        }
        prompts.push(prefix);
        events.push({ type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent?.hash ?? null, tokenIds: tokens });
      }
    }
    const bytes = encodeVllmBatch(events, { style: opts.style ?? (s % 2 ? 'map' : 'positional'), engineBlockSize, dpRank: opts.dpRank, ts: 1_700_000_000 + s });
    messages.push({ seq: BigInt(s), bytes, events });
  }
  return { messages, prompts };
}
