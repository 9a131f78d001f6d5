/**
 * @internal Workloads for the decode + apply benchmark (the bench harness imports these; they are
 * not part of the public API).
 */
import type { BlockHasher } from '../hashing/types.js';
import { encodeVllmBatch, type VllmEngineEvent } from './encode.js';
import { createIngestor } from './ingestor.js';
import type { IngestTarget } from './types.js';

/** @internal Options of {@link makeVllmWorkload}. */
export interface VllmWorkloadOptions {
  /** Messages in all. */
  messages: number;
  /** Engines publishing (round-robin). Default 8. */
  workers?: number;
  /** Blocks stored per message. Default 32. */
  blocksPerMessage?: number;
  /** Tokens per block (the router's and the engines'). Default 16. */
  blockSize?: number;
  /** Blocks an engine holds before it evicts (a removal of its oldest blocks rides along). Default 4096. */
  capacity?: number;
  /** Seed. Default 1. */
  seed?: number;
}

/** @internal One encoded vLLM message and its sender. */
export interface VllmWorkloadMessage {
  workerId: string;
  seq: bigint;
  bytes: Uint8Array;
}

/**
 * @internal Realistic vLLM traffic: each engine stores chains (each message extends its previous
 * chain, a new root every 8 messages), evicting its oldest blocks once full. Returns the encoded
 * messages and the number of blocks they store.
 */
export function makeVllmWorkload(options: VllmWorkloadOptions): { messages: VllmWorkloadMessage[]; storedBlocks: number } {
  const workers = options.workers ?? 8;
  const perMessage = options.blocksPerMessage ?? 32;
  const blockSize = options.blockSize ?? 16;
  const capacity = options.capacity ?? 4096;
  let state = (options.seed ?? 1) >>> 0 || 1;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  let nextHash = 0x9e3779b97f4a7c15n;
  const held: bigint[][] = Array.from({ length: workers }, () => []);
  const heads = new Array<bigint | null>(workers).fill(null);
  const seqs = new Array<bigint>(workers).fill(0n);
  const messages: VllmWorkloadMessage[] = [];
  let storedBlocks = 0;
  for (let m = 0; m < options.messages; m++) {
    const w = m % workers;
    const events: VllmEngineEvent[] = [];
    const hashes: bigint[] = [];
    for (let b = 0; b < perMessage; b++) {
      nextHash = (nextHash * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      hashes.push(nextHash);
    }
    const tokens = new Array<number>(perMessage * blockSize);
    for (let t = 0; t < tokens.length; t++) tokens[t] = rand() % 128_000;
    const parent = (m / workers) % 8 === 0 ? null : heads[w]!;
    events.push({ type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent, tokenIds: tokens });
    heads[w] = hashes[hashes.length - 1]!;
    held[w]!.push(...hashes);
    storedBlocks += perMessage;
    if (held[w]!.length > capacity) {
      const gone = held[w]!.splice(0, held[w]!.length - capacity);
      events.push({ type: 'BlockRemoved', blockHashes: gone });
    }
    const bytes = encodeVllmBatch(events, { style: m % 2 ? 'map' : 'positional', engineBlockSize: blockSize, dpRank: 0, ts: 1_700_000_000 });
    messages.push({ workerId: `10.0.0.${w}:5557`, seq: seqs[w]!, bytes });
    seqs[w]! += 1n;
  }
  return { messages, storedBlocks };
}

/**
 * @internal Ingests a workload into `target` once and returns the blocks-per-second rate of
 * decode + apply (from raw msgpack bytes to the index).
 */
export function measureVllmIngest(target: IngestTarget, hasher: BlockHasher, workload: ReturnType<typeof makeVllmWorkload>): { seconds: number; blocksPerSecond: number; rejected: number } {
  const ingestor = createIngestor(target, { hasher });
  const t0 = performance.now();
  for (const m of workload.messages) ingestor.ingest(m.bytes, { format: 'vllm', workerId: m.workerId, seq: m.seq, transport: 'inproc' });
  const seconds = (performance.now() - t0) / 1000;
  const c = ingestor.counters();
  const rejected = Object.values(c.rejected).reduce((a, b) => a + b, 0);
  return { seconds, blocksPerSecond: workload.storedBlocks / seconds, rejected };
}
