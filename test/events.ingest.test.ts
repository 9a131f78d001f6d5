import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHasher } from '../src/hashing/index.js';
import type { BlockHasher } from '../src/hashing/types.js';
import { RadixIndex } from '../src/radix/index.js';
import type { ApplyResult, KvEvent } from '../src/radix/types.js';
import {
  createIngestor,
  decodeEvents,
  encodeDynamoEvent,
  encodeMetrics,
  encodeTrtllmEvents,
  encodeVllmBatch,
  type LoadMetrics,
  type ResyncNotice,
} from '../src/events/index.js';
import { randomTokens, rng, simulateEngine } from './events.support.js';

let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await createHasher({ blockSize: 4 });
});

/** Indexes agree: same caches with the same block counts, same overlaps for every prompt. */
function expectSameIndex(actual: RadixIndex, expected: RadixIndex, prompts: number[][]): void {
  const key = (w: { workerId: string; dpRank: number }) => `${w.workerId}/${w.dpRank}`;
  const counts = (ix: RadixIndex) =>
    Object.fromEntries(
      ix
        .workers()
        .map((w) => [key(w), ix.blockCount(w.workerId, w.dpRank)] as const)
        .filter(([, n]) => n > 0)
        .sort(),
    );
  expect(counts(actual)).toEqual(counts(expected));
  expect(actual.stats().entries).toBe(expected.stats().entries);
  for (const p of prompts) {
    const q = hasher.blockHashes(p);
    const a = actual.findMatches(q);
    const e = expected.findMatches(q);
    const asObj = (s: Iterable<{ workerId: string; dpRank: number; blocks: number }>) => Object.fromEntries([...s].map((w) => [key(w), w.blocks]).sort());
    expect(asObj(a)).toEqual(asObj(e));
  }
}

function reference(messages: Array<{ bytes: Uint8Array }>, workerId: string, engineBlockSize?: number): RadixIndex {
  const ix = new RadixIndex();
  let size = engineBlockSize;
  for (const m of messages) {
    const r = decodeEvents(m.bytes, { format: 'vllm', workerId, hasher, engineBlockSize: size });
    if (!r.ok) throw new Error(r.error.message);
    if (r.engineBlockSize !== undefined) size = r.engineBlockSize;
    for (const e of r.events) ix.apply(e);
  }
  return ix;
}

function garbage(r: () => number): Uint8Array {
  const kind = Math.floor(r() * 4);
  if (kind === 0) return Uint8Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256));
  if (kind === 1) return Uint8Array.from([0x93, 0xcb, 1, 2, 3]); // truncated
  if (kind === 2) return Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]); // huge declared length
  return encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: [1, 2, 3] }], { style: 'map', engineBlockSize: 4 }); // token count mismatch
}

describe('createIngestor', () => {
  it('applies a vLLM stream exactly as a RadixIndex fed the decoded events', () => {
    const { messages, prompts } = simulateEngine(1, 200, 4);
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    for (const m of messages) expect(ing.ingest(m.bytes, { format: 'vllm', workerId: 'w1', seq: m.seq, transport: 'zmq' }).ok).toBe(true);
    expectSameIndex(ix, reference(messages, 'w1'), prompts);
    const c = ing.counters();
    expect(c.messages).toBe(200);
    expect(c.gaps + c.restarts + c.resets + c.duplicates).toBe(0);
    expect(c.applied).toBeGreaterThan(200);
    expect(c.lagMs).toBeGreaterThan(0);
  });

  it('garbage interleaved with good messages: every good one applies (no reset on decode errors)', () => {
    const r = rng(2);
    const { messages, prompts } = simulateEngine(2, 200, 4);
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher, resetOnDecodeError: false });
    let bad = 0;
    for (const m of messages) {
      if (r() < 0.3) {
        bad++;
        expect(ing.ingest(garbage(r), { format: 'vllm', workerId: 'w1' }).ok).toBe(false);
      }
      expect(ing.ingest(m.bytes, { format: 'vllm', workerId: 'w1' }).ok).toBe(true);
    }
    expectSameIndex(ix, reference(messages, 'w1'), prompts);
    const c = ing.counters();
    const decodeRejects = Object.values(c.rejected).reduce((a, b) => a + b, 0) - (c.rejected.BLOCK_NOT_FOUND ?? 0) - (c.rejected.PARENT_NOT_FOUND ?? 0);
    expect(decodeRejects).toBe(bad);
    expect(c.rejected.MALFORMED).toBeGreaterThan(0);
    expect(c.rejected.TOKEN_COUNT_MISMATCH).toBeGreaterThan(0);
    expect(c.resets).toBe(0);
  });

  it('garbage interleaved, default policy: the worker resets, asks for a resync, and the resync restores it', () => {
    const r = rng(3);
    const { messages, prompts } = simulateEngine(3, 150, 4);
    const ix = new RadixIndex();
    const good: Uint8Array[] = [];
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher });
    // A resync responder: the engine answers with everything it published (a replay).
    ing.onResync((n) => {
      notices.push(n);
      for (const bytes of good) ing.ingest(bytes, { format: 'vllm', workerId: n.workerId, replay: true });
    });
    for (const m of messages) {
      if (r() < 0.2) ing.ingest(garbage(r), { format: 'vllm', workerId: 'w1' });
      good.push(m.bytes);
      ing.ingest(m.bytes, { format: 'vllm', workerId: 'w1' });
    }
    expect(notices.length).toBeGreaterThan(0);
    expect(notices.every((n) => n.reason === 'decode-error' && n.workerId === 'w1' && n.dpRank === 0 && n.error !== undefined)).toBe(true);
    expect(ing.counters().resets).toBe(notices.length);
    expectSameIndex(ix, reference(messages, 'w1'), prompts);
  });

  it('garbage from an unnamed source resets nobody', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const stored: KvEvent = { type: 'stored', workerId: '5', eventId: 0, parentHash: null, blocks: [{ blockHash: 1n, tokensHash: 2n }] };
    ing.ingest(encodeDynamoEvent(stored, 'json'), { format: 'dynamo-json' });
    const r = ing.ingest(Buffer.from('{"worker_id": 5, "event": '), { format: 'dynamo-json' });
    expect(r.ok).toBe(false);
    expect(r.error?.reason).toBe('MALFORMED');
    expect(ix.blockCount('5')).toBe(1);
    expect(ing.counters().resets).toBe(0);
  });

  it('a removal before its store: BLOCK_NOT_FOUND counted, the rest of the batch applies', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const bytes = encodeVllmBatch(
      [
        { type: 'BlockRemoved', blockHashes: [77n] },
        { type: 'BlockStored', blockHashes: [77n], tokenIds: [1, 2, 3, 4] },
      ],
      { style: 'positional', engineBlockSize: 4 },
    );
    const r = ing.ingest(bytes, { format: 'vllm', workerId: 'w' });
    expect(r).toMatchObject({ ok: true, applied: 1, rejected: 1 });
    expect(ix.blockCount('w')).toBe(1);
    expect(ing.counters().rejected).toEqual({ BLOCK_NOT_FOUND: 1 });
    expect(ing.counters().workers[0]!.rejected).toEqual({ BLOCK_NOT_FOUND: 1 });
  });

  it('a store whose parent was never seen: PARENT_NOT_FOUND counted, nothing of it applied, later events apply', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const bytes = encodeVllmBatch(
      [
        { type: 'BlockStored', blockHashes: [2n], parentBlockHash: 999n, tokenIds: [1, 2, 3, 4] },
        { type: 'BlockStored', blockHashes: [3n], tokenIds: [5, 6, 7, 8] },
      ],
      { style: 'map', engineBlockSize: 4 },
    );
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'w' })).toMatchObject({ ok: true, applied: 1, rejected: 1 });
    expect(ix.blockCount('w')).toBe(1);
    expect(ing.counters().rejected.PARENT_NOT_FOUND).toBe(1);
  });

  it('a message that fails to decode applies nothing, even its good events', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher, resetOnDecodeError: false });
    const bytes = encodeVllmBatch(
      [
        { type: 'BlockStored', blockHashes: [1n], tokenIds: [1, 2, 3, 4] },
        { type: 'BlockStored', blockHashes: [2n], tokenIds: [1, 2, 3] },
      ],
      { style: 'positional', engineBlockSize: 4 },
    );
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'w' }).ok).toBe(false);
    expect(ix.blockCount('w')).toBe(0);
    expect(ix.stats().entries).toBe(0);
  });

  it('Dynamo event-id gap: worker reset, resync requested from the first missing id', () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, onResync: (n) => notices.push(n) });
    const ev = (id: number, hash: bigint, parent: bigint | null = null): KvEvent => ({ type: 'stored', workerId: '9', dpRank: 1, eventId: id, parentHash: parent, blocks: [{ blockHash: hash, tokensHash: hash + 100n }] });
    ing.ingest(encodeDynamoEvent(ev(0, 1n), 'json'), { format: 'dynamo-json' });
    ing.ingest(encodeDynamoEvent(ev(1, 2n, 1n), 'json'), { format: 'dynamo-json' });
    expect(ix.blockCount('9', 1)).toBe(2);
    ing.ingest(encodeDynamoEvent(ev(5, 3n), 'msgpack'), { format: 'dynamo-msgpack' });
    expect(notices).toEqual([{ workerId: '9', dpRank: 1, reason: 'gap', fromSeq: 2n }]);
    expect(ix.blockCount('9', 1)).toBe(1); // cleared, then event 5 applied
    const c = ing.counters();
    expect(c).toMatchObject({ gaps: 1, resets: 1, resyncRequests: 1 });
    expect(c.workers.find((w) => w.workerId === '9')).toMatchObject({ gaps: 1, resets: 1, lastEventId: 5 });
  });

  it('Dynamo duplicates are dropped and counted; event id back to 0 is a restart', () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, onResync: (n) => notices.push(n) });
    const ev = (id: number, hash: bigint): KvEvent => ({ type: 'stored', workerId: '4', eventId: id, parentHash: null, blocks: [{ blockHash: hash, tokensHash: hash }] });
    ing.ingestEvents([ev(0, 1n), ev(1, 2n), ev(2, 3n)]);
    expect(ing.ingestEvents([ev(1, 2n), ev(2, 3n)])).toMatchObject({ applied: 0, duplicates: 2 });
    ing.ingest(encodeDynamoEvent(ev(2, 3n), 'msgpack-positional'), { format: 'dynamo-msgpack' });
    expect(ing.counters().duplicates).toBe(3);
    expect(ix.blockCount('4')).toBe(3);
    ing.ingestEvents([ev(0, 10n)]);
    expect(notices).toEqual([{ workerId: '4', dpRank: 0, reason: 'restart', fromSeq: 0n }]);
    expect(ix.blockCount('4')).toBe(1);
    expect(ing.counters().restarts).toBe(1);
  });

  it('ZMQ: engine restart (seq back to 0) clears the worker; a seq gap resets and asks for a replay; a repeated seq is dropped', () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, onResync: (n) => notices.push(n) });
    const { messages } = simulateEngine(4, 10, 4);
    for (const m of messages.slice(0, 5)) ing.ingest(m.bytes, { format: 'vllm', workerId: 'e', seq: m.seq, transport: 'zmq' });
    expect(ix.blockCount('e')).toBeGreaterThan(0);
    expect(ing.ingest(messages[4]!.bytes, { format: 'vllm', workerId: 'e', seq: 4n, transport: 'zmq' })).toMatchObject({ duplicates: 1 });
    // The engine restarts: its first batch (seq 0) stores one fresh block.
    const fresh = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [5n], tokenIds: [9, 9, 9, 9] }], { style: 'map', engineBlockSize: 4 });
    ing.ingest(fresh, { format: 'vllm', workerId: 'e', seq: 0n, transport: 'zmq' });
    expect(ix.blockCount('e')).toBe(1);
    expect(notices).toEqual([{ workerId: 'e', dpRank: 0, reason: 'restart', fromSeq: 0n }]);
    // seq 1 arrives, then 4: 2 and 3 were lost.
    const one = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [6n], parentBlockHash: 5n, tokenIds: [1, 1, 1, 1] }], { style: 'map', engineBlockSize: 4 });
    ing.ingest(one, { format: 'vllm', workerId: 'e', seq: 1n, transport: 'zmq' });
    expect(ix.blockCount('e')).toBe(2);
    ing.ingest(encodeVllmBatch([], { style: 'map', engineBlockSize: 4 }), { format: 'vllm', workerId: 'e', seq: 4n, transport: 'zmq' });
    expect(notices[1]).toEqual({ workerId: 'e', dpRank: 0, reason: 'gap', fromSeq: 2n });
    expect(ix.blockCount('e')).toBe(0);
    expect(ing.counters()).toMatchObject({ restarts: 1, gaps: 1, duplicates: 1, resets: 2 });
  });

  it('JetStream: a backwards stream sequence is a redelivery (dropped), not a restart', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const { messages } = simulateEngine(5, 6, 4);
    for (const m of messages) ing.ingest(m.bytes, { format: 'vllm', workerId: 'j', seq: m.seq + 1n, transport: 'jetstream' });
    const before = ix.blockCount('j');
    expect(ing.ingest(messages[2]!.bytes, { format: 'vllm', workerId: 'j', seq: 3n, transport: 'jetstream' }).duplicates).toBe(1);
    expect(ix.blockCount('j')).toBe(before);
    expect(ing.counters()).toMatchObject({ restarts: 0, resets: 0, duplicates: 1 });
  });

  it('noteTransportGap resets one worker (all ranks) or every worker, with resync notices', () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, onResync: (n) => notices.push(n) });
    for (const [w, rank] of [['a', 0], ['a', 1], ['b', 0]] as const) {
      const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: [1, 2, 3, 4] }], { style: 'map', engineBlockSize: 4, dpRank: rank });
      ing.ingest(bytes, { format: 'vllm', workerId: w });
    }
    ing.noteTransportGap('a');
    expect(ix.blockCount('a')).toBe(0);
    expect(ix.blockCount('b')).toBe(1);
    expect(notices.map((n) => `${n.workerId}/${n.dpRank}/${n.reason}`).sort()).toEqual(['a/0/transport-gap', 'a/1/transport-gap']);
    ing.noteTransportGap();
    expect(ix.blockCount('b')).toBe(0);
    expect(notices).toHaveLength(5);
  });

  it('block size mismatch is an explicit, counted error for that worker', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: [1, 2, 3, 4, 5, 6] }], { style: 'map', engineBlockSize: 6 });
    const r = ing.ingest(bytes, { format: 'vllm', workerId: 'm' });
    expect(r.error?.reason).toBe('BLOCK_SIZE_MISMATCH');
    expect(ing.counters().rejected.BLOCK_SIZE_MISMATCH).toBe(1);
    expect(ing.counters().workers.find((w) => w.workerId === 'm')!.rejected.BLOCK_SIZE_MISMATCH).toBe(1);
  });

  it('learns an engine block size (a multiple of the router\'s) so later removals drop every sub-block', () => {
    const { messages, prompts } = simulateEngine(6, 120, 16);
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    for (const m of messages) ing.ingest(m.bytes, { format: 'vllm', workerId: 'big' });
    expect(ing.counters().rejected).toEqual({});
    expectSameIndex(ix, reference(messages, 'big'), prompts);
    // Every engine block is 4 router blocks.
    const held = new Set<bigint>();
    for (const m of messages) for (const e of m.events) {
      if (e.type === 'BlockStored') e.blockHashes.forEach((h) => held.add(h));
      if (e.type === 'BlockRemoved') e.blockHashes.forEach((h) => held.delete(h));
    }
    expect(ix.blockCount('big')).toBe(held.size * 4);
  });

  it('huge messages are rejected before decoding (maxMessageBytes)', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher, maxMessageBytes: 1024 });
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: Array.from({ length: 100 }, (_, i) => BigInt(i + 1)), tokenIds: randomTokens(rng(1), 400) }], { style: 'map', engineBlockSize: 4 });
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'h' }).error?.reason).toBe('MESSAGE_TOO_LARGE');
    expect(ix.blockCount('h')).toBe(0);
  });

  it('builds a LoRA hasher in the background after UNKNOWN_LORA; the resync then succeeds', async () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, createLoraHasher: (loraName) => createHasher({ blockSize: 4, loraName }), onResync: (n) => notices.push(n) });
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: [1, 2, 3, 4], loraName: 'ad', loraId: 1 }], { style: 'map', engineBlockSize: 4 });
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'l' }).error?.reason).toBe('UNKNOWN_LORA');
    expect(notices).toMatchObject([{ workerId: 'l', reason: 'decode-error', error: 'UNKNOWN_LORA' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'l', replay: true }).ok).toBe(true);
    const lora = await createHasher({ blockSize: 4, loraName: 'ad' });
    expect(ix.findMatches(lora.blockHashes([1, 2, 3, 4])).get('l')).toBe(1);
    expect(ix.findMatches(hasher.blockHashes([1, 2, 3, 4])).get('l')).toBe(0);
  });

  it('Dynamo JSON hashes above 2^63 apply exactly', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const text = '{"worker_id":1,"event":{"event_id":0,"dp_rank":0,"data":{"stored":{"parent_hash":null,"blocks":[{"block_hash":18446744073709551615,"tokens_hash":9223372036854775809}]}}}}';
    expect(ing.ingest(Buffer.from(text), { format: 'dynamo-json' }).ok).toBe(true);
    expect(ix.findMatches([9223372036854775809n]).get('1')).toBe(1);
    expect(ix.findMatches([9223372036854775808n]).get('1')).toBe(0);
    const over = text.replace('18446744073709551615', '18446744073709551616');
    expect(ing.ingest(Buffer.from(over), { format: 'dynamo-json' }).error?.reason).toBe('BAD_HASH');
  });

  it('feeds metrics to a router-like target and counts bad ones', () => {
    const seen: Array<[string, number, LoadMetrics]> = [];
    const target = {
      applyEvent: (_e: KvEvent): ApplyResult => ({ applied: 0 }),
      updateLoad: (w: string, r: number, m: LoadMetrics) => void seen.push([w, r, m]),
    };
    const ing = createIngestor(target, { hasher });
    expect(ing.ingestMetrics(encodeMetrics({ kvActiveBlocks: 5 }, { format: 'dynamo-fpm', workerId: '3', dpRank: 1 }), { format: 'dynamo-fpm' }).ok).toBe(true);
    expect(ing.ingestMetrics(Buffer.from('{"kv_active_blocks": -4}'), { format: 'dynamo-fpm', workerId: '3' }).ok).toBe(false);
    expect(ing.ingestMetrics(Buffer.from('{"kv_active_blocks": 4}'), { format: 'dynamo-fpm' }).ok).toBe(true);
    expect(seen).toEqual([['3', 1, { kvActiveBlocks: 5, dataParallelRank: 1 }]]);
    expect(ing.counters().metrics).toEqual({ applied: 1, rejected: 2 });
  });

  it('TensorRT-LLM: a store split by cache level shares its event id and applies whole; ids are tracked', () => {
    const ix = new RadixIndex();
    const notices: ResyncNotice[] = [];
    const ing = createIngestor(ix, { hasher, onResync: (n) => notices.push(n) });
    const t = randomTokens(rng(8), 12);
    const bytes = encodeTrtllmEvents([
      { type: 'stored', eventId: 0, blocks: [{ blockHash: 1n, tokenIds: t.slice(0, 4) }, { blockHash: 2n, tokenIds: t.slice(4, 8), cacheLevel: 1 }, { blockHash: 3n, tokenIds: t.slice(8), cacheLevel: 1 }] },
      { type: 'removed', eventId: 1, blockHashes: [1n] },
    ]);
    expect(ing.ingest(bytes, { format: 'trtllm', workerId: 't' })).toMatchObject({ ok: true, applied: 3, rejected: 0, duplicates: 0 });
    expect(ix.blockCount('t')).toBe(2);
    expect(ix.findMatches(hasher.blockHashes(t)).tiers('t')).toEqual({ device: 0, host: 0, disk: 0 });
    ing.ingest(encodeTrtllmEvents([{ type: 'removed', eventId: 1, blockHashes: [2n] }]), { format: 'trtllm', workerId: 't' });
    expect(ing.counters().duplicates).toBe(1);
    ing.ingest(encodeTrtllmEvents([{ type: 'created', eventId: 3 }]), { format: 'trtllm', workerId: 't' });
    expect(notices).toEqual([{ workerId: 't', dpRank: 0, reason: 'gap', fromSeq: 2n }]);
    // Skipped events (created / updated) still advance the ids: no false gap after them.
    ing.ingest(encodeTrtllmEvents([{ type: 'updated', eventId: 4 }, { type: 'stored', eventId: 5, blocks: [{ blockHash: 9n, tokenIds: t.slice(0, 4) }] }]), { format: 'trtllm', workerId: 't' });
    ing.ingest(encodeTrtllmEvents([{ type: 'created', eventId: 6 }]), { format: 'trtllm', workerId: 't' });
    ing.ingest(encodeTrtllmEvents([{ type: 'removed', eventId: 7, blockHashes: [9n] }]), { format: 'trtllm', workerId: 't' });
    expect(notices).toHaveLength(1);
    expect(ing.counters()).toMatchObject({ gaps: 1, ignored: { IGNORED_TYPE: 3 } });
    expect(ix.blockCount('t')).toBe(0);
  });

  it('after a transport gap, sequence tracking restarts (the next message is not another gap)', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const { messages } = simulateEngine(9, 8, 4);
    for (const m of messages.slice(0, 3)) ing.ingest(m.bytes, { format: 'vllm', workerId: 'g', seq: m.seq, transport: 'nats' });
    ing.noteTransportGap('g');
    for (const m of messages.slice(6)) ing.ingest(m.bytes, { format: 'vllm', workerId: 'g', seq: m.seq, transport: 'nats' });
    expect(ing.counters()).toMatchObject({ gaps: 0, resets: 1, resyncRequests: 1 });
  });

  it('unknown event tags and other KV groups are skipped and counted; the rest of the batch applies', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const bytes = new Packr({ useRecords: false, variableMapSize: true }).pack([
      1.0,
      [
        ['BlockMigrated', [1], 'GPU', 'CPU'],
        { type: 'SomethingNew', payload: [1, 2, 3] },
        ['BlockStored', [5], null, [1, 2, 3, 4], 4, null, 'GPU', null, null, 1, 'full_attention', null],
        ['BlockStored', [6], null, [1, 2, 3, 4], 4, null, 'GPU'],
      ],
      0,
    ]);
    expect(ing.ingest(bytes, { format: 'vllm', workerId: 'u' })).toMatchObject({ ok: true, applied: 1 });
    expect(ing.counters().ignored).toEqual({ UNKNOWN_EVENT_TYPE: 2, OTHER_KV_GROUP: 1 });
    expect(ix.blockCount('u')).toBe(1);
  });

  it('events the target refuses are counted, never thrown', () => {
    const ix = new RadixIndex();
    const ing = createIngestor(ix, { hasher });
    const bad = { type: 'stored', workerId: 'x', parentHash: null, blocks: [{ blockHash: -1n, tokensHash: 1n }] } as KvEvent;
    expect(ing.ingestEvents([bad, { type: 'cleared', workerId: 'x' }])).toMatchObject({ applied: 1, rejected: 1 });
    expect(ing.counters().rejected.INVALID_EVENT).toBe(1);
  });
});
