import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeEvents, createIngestor } from '../src/events/index.js';
import { createHasher } from '../src/hashing/index.js';
import { RadixIndex } from '../src/radix/index.js';
import type { KvEvent } from '../src/radix/types.js';
import { EventQueue } from '../src/sim/clock.js';
import { engineBlockHashes, SimEngine, type EngineConfig, type EngineSink } from '../src/sim/engine.js';
import { MsgpackWriter } from '../src/sim/msgpack-writer.js';
import { PairMap } from '../src/sim/pair-map.js';
import type { SimRequest } from '../src/sim/workload.js';

const B = 4;
const cfg = (over: Partial<EngineConfig> = {}): EngineConfig => ({
  blockSize: B,
  capacityBlocks: 16,
  batchLimit: 8,
  prefillTokensPerSecond: 1000,
  prefillOverheadMs: 0,
  decodeMsPerToken: 10,
  ...over,
});

function seq(start: number, n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => start + i);
}

/** An engine wired to a clock, recording hits and published batches. */
function rig(over: Partial<EngineConfig> = {}) {
  const clock = new EventQueue();
  const batches: Uint8Array[] = [];
  const hits: number[] = [];
  const ttft: number[] = [];
  const done: Array<{ index: number; rejected: boolean; at: number }> = [];
  const sink: EngineSink = { events: (bytes) => batches.push(bytes), load: () => {} };
  const engine = new SimEngine('w0', 2, cfg(over), clock, {
    firstToken: (r, h) => {
      hits.push(h);
      ttft.push(clock.now - r.arrivalMs);
    },
    completed: (r, rejected) => done.push({ index: r.index, rejected, at: clock.now }),
  }, sink);
  let next = 0;
  const submit = (prompt: Uint32Array, output: Uint32Array): SimRequest => {
    const req: SimRequest = { index: next++, arrivalMs: clock.now, promptLength: prompt.length, outputLength: output.length };
    const all = new Uint32Array(prompt.length + output.length);
    all.set(prompt);
    all.set(output, prompt.length);
    engine.submit(req, engineBlockHashes(prompt, output, B), () => all);
    return req;
  };
  const drain = (): void => {
    while (clock.step()) {
      /* run */
    }
  };
  return { clock, engine, batches, hits, ttft, done, submit, drain };
}

describe('SimEngine prefix cache', () => {
  it('serves a repeated prompt from cache, except the block holding the last prompt token', () => {
    const r = rig();
    r.submit(seq(100, 16), seq(900, 1));
    r.drain();
    r.submit(seq(100, 16), seq(900, 1));
    r.drain();
    // 16 tokens = 4 blocks; the last prompt token is always computed, so at most 3 blocks hit.
    expect(r.hits).toEqual([0, 3]);
  });

  it('hits the generated blocks of an earlier request (the next turn of a conversation)', () => {
    const r = rig();
    const prompt = seq(100, 8);
    const reply = seq(500, 9);
    r.submit(prompt, reply);
    r.drain();
    const next = new Uint32Array([...prompt, ...reply, 7, 7, 7, 7]);
    r.submit(next, seq(900, 1));
    r.drain();
    // Computed tokens of the first request: 8 prompt + 8 of the 9 generated = 4 full blocks cached.
    expect(r.hits[1]).toBe(4);
  });

  it('takes prefill time from uncached tokens only', () => {
    const r = rig({ prefillTokensPerSecond: 1000, prefillOverheadMs: 2 });
    r.submit(seq(100, 16), seq(900, 1));
    r.drain();
    r.submit(seq(100, 16), seq(900, 1));
    r.drain();
    expect(r.ttft[0]).toBeCloseTo(2 + 16, 6);
    expect(r.ttft[1]).toBeCloseTo(2 + 4, 6);
  });

  it('evicts the least recently freed blocks first, the tail of a sequence before its head', () => {
    const r = rig({ capacityBlocks: 8 });
    r.submit(seq(100, 17), seq(900, 1)); // A: 5 blocks, the first 4 full and cached
    r.drain();
    r.submit(seq(200, 16), seq(901, 1)); // B: 5 blocks: 3 never used, A's partial block, then one cached block of A
    r.drain();
    r.submit(seq(100, 17), seq(900, 1));
    r.drain();
    // A's blocks were freed tail first, so B evicted A's 4th block, not its 1st: A still hits 3.
    expect(r.hits).toEqual([0, 0, 3]);
    expect(r.engine.evictions).toBe(2); // A's 4th block for B, then one of B's for A's re-computation
  });

  it('queues when the pool is full and admits when blocks free up (FCFS)', () => {
    const r = rig({ capacityBlocks: 6, decodeMsPerToken: 100 });
    r.submit(seq(100, 16), seq(900, 4)); // 5 blocks
    r.submit(seq(300, 16), seq(901, 4)); // 5 blocks: must wait for the first to finish
    expect(r.engine.activeRequests).toBe(2);
    expect(r.engine.runningRequests).toBe(1);
    r.drain();
    expect(r.done.map((d) => d.index)).toEqual([0, 1]);
    expect(r.done[1]!.at).toBeGreaterThan(r.done[0]!.at);
  });

  it('rejects a request that can never fit in the pool', () => {
    const r = rig({ capacityBlocks: 4 });
    r.submit(seq(100, 40), seq(900, 1));
    r.drain();
    expect(r.done).toEqual([{ index: 0, rejected: true, at: 0 }]);
  });

  it('publishes vLLM batches that decode, through the real decoder, to a state matching the engine', async () => {
    const r = rig({ capacityBlocks: 12 });
    const prompts = [seq(100, 16), seq(100, 20), seq(300, 12), seq(100, 9), seq(500, 16), seq(100, 16)];
    for (const p of prompts) {
      r.submit(p, seq(p[0]! * 7, 3));
      r.drain();
    }
    const hasher = await createHasher({ blockSize: B });
    const index = new RadixIndex();
    const ingestor = createIngestor(index, { hasher });
    let seqNo = 0n;
    const kinds = new Set<string>();
    for (const bytes of r.batches) {
      const decoded = decodeEvents(bytes, { format: 'vllm', workerId: 'w0', hasher });
      expect(decoded.ok).toBe(true);
      if (decoded.ok) for (const e of decoded.events as KvEvent[]) {
        kinds.add(e.type);
        expect(e.dpRank).toBe(2);
      }
      const res = ingestor.ingest(bytes, { format: 'vllm', workerId: 'w0', dpRank: 2, seq: seqNo++ });
      expect(res.ok).toBe(true);
      expect(res.rejected).toBe(0);
    }
    expect(kinds).toEqual(new Set(['stored', 'removed']));
    // The index now knows exactly what the engine would serve from cache.
    for (const p of [...prompts, seq(100, 32), seq(300, 16), seq(42, 8)]) {
      const engineHits = r.engine.cachedPrefixBlocks(engineBlockHashes(p, seq(0, 1), B), p.length + 1);
      const routerHits = index.findMatches(hasher.blockHashes(p)).get('w0', 2);
      expect(routerHits).toBe(engineHits);
    }
  });
});

describe('MsgpackWriter', () => {
  it('writes what msgpackr reads back, u64 from halves included', () => {
    const w = new MsgpackWriter(4);
    w.arrayHeader(8);
    w.str('BlockStored');
    w.u64(0x89abcdef, 0xfedcba98);
    w.nil();
    w.uint(127);
    w.uint(65_535);
    w.uint(4_000_000_000);
    w.float64(1.5);
    w.arrayHeader(20);
    for (let i = 0; i < 20; i++) w.uint(i * 300);
    const v = unpack(w.bytes(), { useBigInt64: true } as never) as unknown[];
    expect(v.slice(0, 7)).toEqual(['BlockStored', 0xfedcba9889abcdefn, null, 127, 65_535, 4_000_000_000, 1.5]);
    expect(v[7]).toEqual(Array.from({ length: 20 }, (_, i) => i * 300));
  });
});

describe('PairMap', () => {
  it('matches a Map under random inserts and deletes', () => {
    const m = new PairMap(512);
    const ref = new Map<string, number>();
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i++) {
      const lo = rnd() % 700;
      const hi = lo % 3;
      const k = `${lo}:${hi}`;
      if (rnd() % 3 === 0) {
        if (m.delete(lo, hi) !== ref.delete(k)) throw new Error(`delete ${k} disagrees at step ${i}`);
      } else if (ref.size < 512 || ref.has(k)) {
        m.set(lo, hi, i);
        ref.set(k, i);
      }
      if (m.size !== ref.size) throw new Error(`size disagrees at step ${i}`);
    }
    for (let lo = 0; lo < 700; lo++) expect(m.get(lo, lo % 3)).toBe(ref.get(`${lo}:${lo % 3}`) ?? -1);
  });
});
