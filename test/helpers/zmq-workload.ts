/**
 * vLLM engine-side workloads for the ZeroMQ tests: msgpack batches (via the real encoder), each with
 * the tokens-hash path of its last block, and the truth index (the real decoder's events applied to
 * the reference index).
 */
import { encodeVllmBatch, type VllmEngineEvent } from '../../src/events/encode.js';
import { decodeEvents } from '../../src/events/decode.js';
import type { BlockHasher } from '../../src/hashing/types.js';
import { ReferenceIndex } from '../reference/index.js';
import { rng, type WorkItem } from './transport-sink.js';

/** Engine block size of these workloads (and of the test sink's hasher). */
export const ENGINE_BLOCK_SIZE = 16;

/** `count` single-event vLLM batches of one engine: chains of stored blocks and some removals. */
export function makeVllmWorkload(seed: number, workerId: string, count: number, hasher: BlockHasher, style: 'map' | 'positional' = 'map'): WorkItem[] {
  const random = rng(seed);
  const tokensOf = new Map<bigint, number[]>();
  let tips: bigint[] = [];
  const held: bigint[] = [];
  let nextHash = BigInt(seed) * 1_000_000_007n + 1n;
  const items: WorkItem[] = [];
  for (let i = 0; i < count; i++) {
    let engineEvent: VllmEngineEvent;
    let path: bigint[] | undefined;
    if (held.length > 4 && random() < 0.1) {
      const victim = held.splice(Math.floor(random() * held.length), 1)[0]!;
      tips = tips.filter((t) => t !== victim);
      engineEvent = { type: 'BlockRemoved', blockHashes: [victim] };
    } else {
      const tipIndex = tips.length > 0 && random() < 0.7 ? Math.floor(random() * tips.length) : -1;
      const parent = tipIndex >= 0 ? tips[tipIndex]! : null;
      const n = 1 + Math.floor(random() * 3);
      const tokenIds: number[] = [];
      const blockHashes: bigint[] = [];
      let prefix = parent === null ? [] : tokensOf.get(parent)!;
      for (let b = 0; b < n; b++) {
        const blockTokens = Array.from({ length: ENGINE_BLOCK_SIZE }, () => Math.floor(random() * 50_000));
        tokenIds.push(...blockTokens);
        prefix = [...prefix, ...blockTokens];
        const h = nextHash++;
        tokensOf.set(h, prefix);
        blockHashes.push(h);
        held.push(h);
      }
      const tip = blockHashes[blockHashes.length - 1]!;
      if (tipIndex >= 0) tips[tipIndex] = tip;
      else tips.push(tip);
      engineEvent = { type: 'BlockStored', blockHashes, parentBlockHash: parent, tokenIds, blockSize: ENGINE_BLOCK_SIZE };
      path = [...hasher.blockHashes(prefix)];
    }
    const bytes = encodeVllmBatch([engineEvent], { style, engineBlockSize: ENGINE_BLOCK_SIZE });
    const decoded = decodeEvents(bytes, { format: 'vllm', workerId, hasher });
    if (!decoded.ok || decoded.events.length !== 1) throw new Error(`workload batch ${i} does not decode`);
    items.push({ workerId, eventId: i, event: decoded.events[0]!, bytes, ...(path ? { path } : {}) });
  }
  return items;
}

/** Reference index fed with the items' decoded events. */
export function vllmTruth(items: readonly WorkItem[]): ReferenceIndex {
  const index = new ReferenceIndex();
  for (const item of items) index.apply(item.event);
  return index;
}
