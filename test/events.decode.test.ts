import { Packr } from 'msgpackr';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHasher } from '../src/hashing/index.js';
import type { BlockHasher } from '../src/hashing/types.js';
import type { KvEvent, StoredEvent } from '../src/radix/types.js';
import {
  decodeEvents,
  decodeMetrics,
  encodeDynamoEvent,
  encodeMetrics,
  encodeTrtllmEvents,
  encodeVllmBatch,
  KvEventSchema,
  subBlockHash,
  type DecodeResult,
} from '../src/events/index.js';
import { fixtureShape, loadVllmFixtures, randomTokens, randomU64, rng } from './events.support.js';

let h4: BlockHasher;
let h16: BlockHasher;
beforeAll(async () => {
  h4 = await createHasher({ blockSize: 4 });
  h16 = await createHasher({ blockSize: 16 });
});

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', variableMapSize: true });

function ok(r: DecodeResult): KvEvent[] {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.reason}: ${r.error.message}`);
  for (const e of r.events) expect(KvEventSchema.safeParse(e).success).toBe(true);
  return r.events;
}

function fail(r: DecodeResult): string {
  if (r.ok) throw new Error('expected a decode error');
  expect(r.error.name).toBe('DecodeError');
  return r.error.reason;
}

describe('vLLM fixtures (test/fixtures/vllm-kv-events.json, a copy of shared/fixtures)', () => {
  for (const f of loadVllmFixtures()) {
    it(f.name, async () => {
      const hasher = f.routerBlockSize === 4 ? h4 : await createHasher({ blockSize: f.routerBlockSize });
      const r = decodeEvents(Buffer.from(f.hex, 'hex'), { format: 'vllm', workerId: 'w1', hasher });
      if (f.error) {
        expect(fail(r)).toBe(f.error);
        return;
      }
      const events = ok(r);
      expect(events.map(fixtureShape)).toEqual(f.events);
      for (const e of events) {
        expect(e.workerId).toBe('w1');
        expect(e.dpRank).toBe(f.dpRank);
      }
    });
  }

  it('Dynamo published check: tokens [1,2,3,4], B=4 → 14643705804678351452', () => {
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [7n], tokenIds: [1, 2, 3, 4] }], { style: 'positional', engineBlockSize: 4 });
    const [e] = ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 })) as StoredEvent[];
    expect(e!.blocks[0]!.tokensHash).toBe(14643705804678351452n);
  });
});

describe('vLLM batches', () => {
  const stored = { type: 'BlockStored' as const, blockHashes: [0xdeadbeef12345678n, 0xffffffffffffffffn], parentBlockHash: 5n, tokenIds: [1, 2, 3, 4, 5, 6, 7, 8] };

  for (const style of ['positional', 'map'] as const) {
    for (const hashForm of ['u64', 'i64', 'bytes32'] as const) {
      it(`round-trips ${style} events with ${hashForm} hashes`, () => {
        const bytes = encodeVllmBatch([stored, { type: 'BlockRemoved', blockHashes: [0xffffffffffffffffn], medium: 'CPU' }, { type: 'AllBlocksCleared' }], {
          style,
          engineBlockSize: 4,
          dpRank: 2,
          hashForm,
          ts: 1_700_000_000,
        });
        const r = decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 });
        const events = ok(r);
        expect(r.ok && r.timestampMs).toBe(1_700_000_000_000);
        expect(events).toHaveLength(3);
        const s = events[0] as StoredEvent;
        expect(s).toMatchObject({ type: 'stored', workerId: 'w', dpRank: 2, tier: 'device', parentHash: 5n });
        expect(s.blocks.map((b) => b.blockHash)).toEqual([0xdeadbeef12345678n, 0xffffffffffffffffn]);
        expect(s.blocks.map((b) => b.tokensHash)).toEqual([...h4.blockHashes([1, 2, 3, 4, 5, 6, 7, 8])]);
        expect(events[1]).toEqual({ type: 'removed', workerId: 'w', dpRank: 2, tier: 'host', blockHashes: [0xffffffffffffffffn] });
        expect(events[2]).toEqual({ type: 'cleared', workerId: 'w', dpRank: 2 });
      });
    }
  }

  it('two-field batches take the rank from the options (default 0)', () => {
    const bytes = encodeVllmBatch([{ type: 'AllBlocksCleared' }], { style: 'positional', engineBlockSize: 4, twoFields: true });
    expect(ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 }))[0]!.dpRank).toBe(0);
    expect(ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', dpRank: 5, hasher: h4 }))[0]!.dpRank).toBe(5);
  });

  it('accepts a map batch', () => {
    const bytes = packr.pack({ ts: 1.5, events: [['AllBlocksCleared']], data_parallel_rank: 1 });
    expect(ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 }))).toEqual([{ type: 'cleared', workerId: 'w', dpRank: 1 }]);
  });

  it('ignores unknown trailing fields of positional and map events', () => {
    const pos = ['BlockStored', [9n], null, [1, 2, 3, 4], 4, null, 'GPU', null, null, 0, 'full_attention', null, 'LOCAL', 'owner', 'session', 'x', 'y'];
    const map = { type: 'BlockStored', block_hashes: [9], parent_block_hash: null, token_ids: [1, 2, 3, 4], block_size: 4, future_field: [1, 2], other: 'z' };
    for (const e of [pos, map]) {
      const events = ok(decodeEvents(packr.pack([0, [e], null]), { format: 'vllm', workerId: 'w', hasher: h4 }));
      expect(events).toHaveLength(1);
      expect((events[0] as StoredEvent).blocks[0]!.blockHash).toBe(9n);
    }
  });

  it('maps media to tiers (DESIGN §2) and rejects an unknown medium', () => {
    const cases: Array<[string | null, string]> = [
      ['GPU', 'device'],
      [null, 'device'],
      ['CPU', 'host'],
      ['CPU_PINNED', 'host'],
      ['CPU_TIER1', 'host'],
      ['CPU_TIER2', 'host'],
      ['DISK', 'disk'],
    ];
    for (const [medium, tier] of cases) {
      const bytes = encodeVllmBatch([{ ...stored, medium }], { style: 'map', engineBlockSize: 4 });
      expect(ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 }))[0]!.tier).toBe(tier);
    }
    const bad = encodeVllmBatch([{ ...stored, medium: 'QUANTUM' }], { style: 'map', engineBlockSize: 4 });
    expect(fail(decodeEvents(bad, { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('UNKNOWN_MEDIUM');
  });

  it('ignores (and counts) other KV groups, non-full-attention specs and unknown event types', () => {
    const bytes = encodeVllmBatch(
      [
        { ...stored, groupIdx: 1 },
        { ...stored, groupIdx: 0, kvCacheSpecKind: 'sliding_window' },
        { type: 'BlockRemoved', blockHashes: [1n], groupIdx: 2 },
        { ...stored, groupIdx: 0, kvCacheSpecKind: 'full_attention' },
      ],
      { style: 'positional', engineBlockSize: 4 },
    );
    const r = decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 });
    expect(ok(r)).toHaveLength(1);
    expect(r.ok && r.ignored).toEqual({ OTHER_KV_GROUP: 2, NOT_FULL_ATTENTION: 1 });
    const unknown = packr.pack([0, [['BlockMigrated', [1], 'CPU'], ['AllBlocksCleared']]]);
    const r2 = decodeEvents(unknown, { format: 'vllm', workerId: 'w', hasher: h4 });
    expect(ok(r2)).toHaveLength(1);
    expect(r2.ok && r2.ignored).toEqual({ UNKNOWN_EVENT_TYPE: 1 });
  });

  it('splits engine blocks that are a whole multiple of the router block size', () => {
    const r = rng(1);
    const tokens = randomTokens(r, 32);
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [100n, 200n], parentBlockHash: 50n, tokenIds: tokens }], { style: 'positional', engineBlockSize: 16 });
    const r16 = decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 });
    const s = ok(r16)[0] as StoredEvent;
    expect(r16.ok && r16.engineBlockSize).toBe(16);
    expect(s.blocks).toHaveLength(8);
    expect(s.parentHash).toBe(50n);
    expect(s.blocks.map((b) => b.tokensHash)).toEqual([...h4.blockHashes(tokens)]);
    const hashes = s.blocks.map((b) => b.blockHash);
    expect(hashes[3]).toBe(100n);
    expect(hashes[7]).toBe(200n);
    expect(new Set(hashes).size).toBe(8);
    expect(hashes.slice(0, 3)).toEqual([0, 1, 2].map((j) => subBlockHash(100n, j, 4)));
    // A removal (no block size on the wire) drops all sub-blocks when told the engine's block size.
    const rem = encodeVllmBatch([{ type: 'BlockRemoved', blockHashes: [200n] }], { style: 'positional', engineBlockSize: 16 });
    const removed = ok(decodeEvents(rem, { format: 'vllm', workerId: 'w', hasher: h4, engineBlockSize: 16 }))[0]!;
    expect(removed).toMatchObject({ type: 'removed', blockHashes: hashes.slice(4) });
    // In the same batch, a removal after a store uses the store's block size.
    const both = encodeVllmBatch(
      [
        { type: 'BlockStored', blockHashes: [100n], tokenIds: tokens.slice(0, 16) },
        { type: 'BlockRemoved', blockHashes: [100n] },
      ],
      { style: 'map', engineBlockSize: 16 },
    );
    expect((ok(decodeEvents(both, { format: 'vllm', workerId: 'w', hasher: h4 }))[1] as { blockHashes: bigint[] }).blockHashes).toHaveLength(4);
  });

  it('rejects a block size that is not a whole multiple (BLOCK_SIZE_MISMATCH), never a silent miss', () => {
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: randomTokens(rng(2), 16) }], { style: 'positional', engineBlockSize: 16 });
    expect(fail(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: await32() }))).toBe('BLOCK_SIZE_MISMATCH');
    const six = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n], tokenIds: randomTokens(rng(2), 6) }], { style: 'positional', engineBlockSize: 6 });
    expect(fail(decodeEvents(six, { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('BLOCK_SIZE_MISMATCH');
  });

  it('rejects token_ids that are not blocks × block_size long', () => {
    const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: [1n, 2n], tokenIds: [1, 2, 3, 4, 5] }], { style: 'positional', engineBlockSize: 4 });
    expect(fail(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('TOKEN_COUNT_MISMATCH');
  });

  it('hashes LoRA blocks with the adapter hasher, and rejects unknown adapters', async () => {
    const lora = await createHasher({ blockSize: 4, loraName: 'sql-adapter' });
    const bytes = encodeVllmBatch([{ ...stored, loraId: 1, loraName: 'sql-adapter' }], { style: 'map', engineBlockSize: 4 });
    const s = ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4, loraHasher: (n) => (n === 'sql-adapter' ? lora : undefined) }))[0] as StoredEvent;
    expect(s.blocks.map((b) => b.tokensHash)).toEqual([...lora.blockHashes(stored.tokenIds)]);
    expect(s.blocks[0]!.tokensHash).not.toBe(h4.blockHashes(stored.tokenIds)[0]);
    const r = decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4 });
    expect(fail(r)).toBe('UNKNOWN_LORA');
    expect(!r.ok && r.error.loraName).toBe('sql-adapter');
    const idOnly = encodeVllmBatch([{ ...stored, loraId: 3 }], { style: 'positional', engineBlockSize: 4 });
    expect(fail(decodeEvents(idOnly, { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('UNKNOWN_LORA');
  });

  it('names the worker or fails with MISSING_WORKER', () => {
    const bytes = encodeVllmBatch([{ type: 'AllBlocksCleared' }], { style: 'positional', engineBlockSize: 4 });
    expect(fail(decodeEvents(bytes, { format: 'vllm', hasher: h4 }))).toBe('MISSING_WORKER');
  });

  it('reports wrong field types as BAD_SHAPE / BAD_HASH', () => {
    const cases: Array<[unknown, string]> = [
      [[0, 'not-a-list'], 'BAD_SHAPE'],
      [[0, [['BlockStored', 'nope', null, [1, 2, 3, 4], 4]]], 'BAD_SHAPE'],
      [[0, [['BlockStored', [1.5], null, [1, 2, 3, 4], 4]]], 'BAD_HASH'],
      [[0, [['BlockStored', [new Uint8Array(7)], null, [1, 2, 3, 4], 4]]], 'BAD_HASH'],
      [[0, [['BlockStored', ['abc'], null, [1, 2, 3, 4], 4]]], 'BAD_HASH'],
      [[0, [['BlockStored', [1], null, [1, 2, -3, 4], 4]]], 'BAD_SHAPE'],
      [[0, [['BlockStored', [1], null, [1, 2, 2 ** 32, 4], 4]]], 'BAD_SHAPE'],
      [[0, [['BlockStored', [1], null, 'tokens', 4]]], 'BAD_SHAPE'],
      [[0, [['BlockStored', [1], null, [1, 2, 3, 4], 'four']]], 'BAD_SHAPE'],
      [[0, [[42]]], 'BAD_SHAPE'],
      [[0, [7]], 'BAD_SHAPE'],
      [[0, [], -1], 'BAD_SHAPE'],
      ['batch', 'BAD_SHAPE'],
      [[0], 'BAD_SHAPE'],
    ];
    for (const [value, reason] of cases) {
      expect(fail(decodeEvents(packr.pack(value), { format: 'vllm', workerId: 'w', hasher: h4 })), JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(reason);
    }
  });

  it('rejects oversize messages before decoding', () => {
    const bytes = encodeVllmBatch([{ type: 'AllBlocksCleared' }], { style: 'positional', engineBlockSize: 4 });
    const r = decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h4, maxMessageBytes: bytes.length - 1 });
    expect(fail(r)).toBe('MESSAGE_TOO_LARGE');
    // An array header declaring 2^32 − 1 elements in a tiny message: truncated, not a hang or a crash.
    expect(fail(decodeEvents(Uint8Array.from([0x93, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0xff, 0xff, 0xff, 0xff]), { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('MALFORMED');
  });

  it('rejects truncated and trailing bytes as MALFORMED', () => {
    const bytes = encodeVllmBatch([stored], { style: 'positional', engineBlockSize: 4 });
    expect(fail(decodeEvents(bytes.subarray(0, bytes.length - 3), { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('MALFORMED');
    expect(fail(decodeEvents(Buffer.concat([bytes, Buffer.from([0])]), { format: 'vllm', workerId: 'w', hasher: h4 }))).toBe('MALFORMED');
  });
});

let h32: BlockHasher | undefined;
function await32(): BlockHasher {
  if (!h32) throw new Error('h32 not ready');
  return h32;
}
beforeAll(async () => {
  h32 = await createHasher({ blockSize: 32 });
});

describe('Dynamo RouterEvent', () => {
  const big = 18446744073709551615n; // 2^64 − 1
  const above63 = 9223372036854775809n; // 2^63 + 1
  const events: KvEvent[] = [
    { type: 'stored', workerId: '7587886497870356123', dpRank: 1, eventId: 0, tier: 'device', parentHash: null, blocks: [{ blockHash: above63, tokensHash: big }] },
    { type: 'stored', workerId: '7587886497870356123', dpRank: 1, eventId: 1, tier: 'host', parentHash: above63, blocks: [{ blockHash: 12n, tokensHash: 9007199254740993n }] },
    { type: 'removed', workerId: '7587886497870356123', dpRank: 1, eventId: 2, tier: 'disk', blockHashes: [12n, big] },
    { type: 'cleared', workerId: '7587886497870356123', dpRank: 1, eventId: 3 },
  ];

  for (const encoding of ['json', 'msgpack', 'msgpack-positional'] as const) {
    it(`round-trips ${encoding} exactly (hashes above 2^53 and 2^63)`, () => {
      const format = encoding === 'json' ? 'dynamo-json' : 'dynamo-msgpack';
      for (const e of events) {
        const decoded = ok(decodeEvents(encodeDynamoEvent(e, encoding), { format, hasher: h16 }));
        expect(decoded).toEqual([e]);
      }
      expect(ok(decodeEvents(encodeDynamoEvent(events, encoding), { format, hasher: h16 }))).toEqual(events);
    });
  }

  it('parses hand-written JSON exactly, rejecting hashes ≥ 2^64 and negatives', () => {
    const json = (hash: string) =>
      Buffer.from(`{"worker_id": 42, "event": {"event_id": 5, "dp_rank": 0, "data": {"stored": {"parent_hash": null, "blocks": [{"block_hash": ${hash}, "tokens_hash": 1}]}}}}`);
    const e = ok(decodeEvents(json('9223372036854775808'), { format: 'dynamo-json', hasher: h16 }))[0] as StoredEvent;
    expect(e.blocks[0]!.blockHash).toBe(9223372036854775808n);
    expect(e.workerId).toBe('42');
    expect(e.eventId).toBe(5);
    expect(e.tier).toBe('device');
    expect(ok(decodeEvents(json('18446744073709551615'), { format: 'dynamo-json', hasher: h16 })).length).toBe(1);
    expect(fail(decodeEvents(json('18446744073709551616'), { format: 'dynamo-json', hasher: h16 }))).toBe('BAD_HASH');
    expect(fail(decodeEvents(json('-1'), { format: 'dynamo-json', hasher: h16 }))).toBe('BAD_HASH');
    expect(fail(decodeEvents(json('1.5'), { format: 'dynamo-json', hasher: h16 }))).toBe('BAD_HASH');
    const cleared = Buffer.from('{"worker_id":1,"storage_tier":"host_pinned","event":{"event_id":0,"data":"cleared","dp_rank":2}}');
    expect(ok(decodeEvents(cleared, { format: 'dynamo-json', hasher: h16 }))).toEqual([{ type: 'cleared', workerId: '1', dpRank: 2, eventId: 0 }]);
  });

  it('reads the older two-field positional RouterEvent [worker_id, event]', () => {
    const bytes = packr.pack([8, [2, { removed: [[5]] }, 1]]);
    expect(ok(decodeEvents(bytes, { format: 'dynamo-msgpack', hasher: h16 }))).toEqual([{ type: 'removed', workerId: '8', dpRank: 1, eventId: 2, tier: 'device', blockHashes: [5n] }]);
  });

  it('reads positional stored data with start_position (newer Dynamo)', () => {
    const bytes = packr.pack([3, 'device', [9, { stored: [null, 4, [[1, 2]]] }, 0]]);
    expect(ok(decodeEvents(bytes, { format: 'dynamo-msgpack', hasher: h16 }))).toEqual([
      { type: 'stored', workerId: '3', dpRank: 0, eventId: 9, tier: 'device', parentHash: null, blocks: [{ blockHash: 1n, tokensHash: 2n }] },
    ]);
  });

  it('skips external-tier and cache-owner events, counted', () => {
    const r = decodeEvents(Buffer.from('{"worker_id":1,"storage_tier":"external","event":{"event_id":0,"data":{"removed":{"block_hashes":[1]}}}}'), { format: 'dynamo-json', hasher: h16 });
    expect(ok(r)).toEqual([]);
    expect(r.ok && r.ignored).toEqual({ SHARED_TIER: 1 });
  });

  it('reports malformed JSON with a byte offset', () => {
    const text = '{"worker_id": 1, "event": {"event_id": 0, "data": "cleared"';
    const r = decodeEvents(Buffer.from(text), { format: 'dynamo-json', hasher: h16 });
    expect(fail(r)).toBe('MALFORMED');
    expect(!r.ok && r.error.byteOffset).toBe(text.length);
    // Offsets count bytes, not characters.
    const r2 = decodeEvents(Buffer.from('{"é": 1, x}'), { format: 'dynamo-json', hasher: h16 });
    expect(!r2.ok && r2.error.byteOffset).toBe(10);
  });
});

describe('TensorRT-LLM events', () => {
  it('decodes stored / removed and skips created / updated', () => {
    const r = rng(3);
    const t1 = randomTokens(r, 16);
    const t2 = randomTokens(r, 16);
    const big = 0xfedcba9876543210n;
    const bytes = encodeTrtllmEvents([
      { type: 'created', eventId: 0 },
      { type: 'stored', eventId: 1, parentHash: null, blocks: [{ blockHash: big, tokenIds: t1 }, { blockHash: 5n, tokenIds: t2, cacheLevel: 1 }], attentionDpRank: 1 },
      { type: 'updated', eventId: 2 },
      { type: 'removed', eventId: 3, blockHashes: [big] },
    ]);
    const res = decodeEvents(bytes, { format: 'trtllm', workerId: 'trt-0', hasher: h16 });
    const events = ok(res);
    expect(res.ok && res.ignored).toEqual({ IGNORED_TYPE: 2 });
    expect(events).toEqual([
      { type: 'stored', workerId: 'trt-0', dpRank: 1, eventId: 1, tier: 'device', parentHash: null, blocks: [{ blockHash: big, tokensHash: h16.blockHashes(t1)[0] }] },
      { type: 'stored', workerId: 'trt-0', dpRank: 1, eventId: 1, tier: 'host', parentHash: big, blocks: [{ blockHash: 5n, tokensHash: h16.blockHashes(t2)[0] }] },
      { type: 'removed', workerId: 'trt-0', dpRank: 0, eventId: 3, tier: 'device', blockHashes: [big] },
    ]);
  });

  it('reads the serializer shape with token objects and lora ids', async () => {
    const tokens = Array.from({ length: 4 }, (_, i) => ({ type: 'unique_token', token_id: i + 1, token_extra_id: 0 }));
    const json = JSON.stringify({ event_id: 7, data: { type: 'stored', parent_hash: null, blocks: [{ type: 'stored_block', block_hash: 1, tokens, lora_id: 2, cache_level: 0, priority: 35 }] }, window_size: 32 });
    expect(fail(decodeEvents(Buffer.from(json), { format: 'trtllm', workerId: 'w', hasher: h4 }))).toBe('UNKNOWN_LORA');
    const lora = await createHasher({ blockSize: 4, loraName: 'a' });
    const e = ok(decodeEvents(Buffer.from(json), { format: 'trtllm', workerId: 'w', hasher: h4, trtllmLoraName: (id) => (id === 2 ? 'a' : undefined), loraHasher: () => lora }))[0] as StoredEvent;
    expect(e.blocks[0]!.tokensHash).toBe(lora.blockHashes([1, 2, 3, 4])[0]);
  });
});

describe('load metrics', () => {
  it('decodes ForwardPassMetrics (nested, flat, wrapped) and ActiveLoad', () => {
    const nested = Buffer.from(
      '{"worker_stats":{"data_parallel_rank":2,"request_active_slots":3,"request_total_slots":8,"num_requests_waiting":1},"kv_stats":{"kv_active_blocks":100,"kv_total_blocks":1000,"gpu_cache_usage_perc":0.1,"gpu_prefix_cache_hit_rate":0.5},"spec_decode_stats":null}',
    );
    expect(decodeMetrics(nested, { format: 'dynamo-fpm', workerId: 'w' })).toEqual({
      ok: true,
      workerId: 'w',
      dpRank: 2,
      metrics: { dataParallelRank: 2, requestActiveSlots: 3, requestTotalSlots: 8, numRequestsWaiting: 1, kvActiveBlocks: 100, kvTotalBlocks: 1000, gpuCacheUsagePerc: 0.1, gpuPrefixCacheHitRate: 0.5 },
    });
    const wrapped = Buffer.from('{"worker_id":18446744073709551615,"data":{"engine_load_metrics":{"kv_stats":{"kv_active_blocks":1}}}}');
    expect(decodeMetrics(wrapped, { format: 'dynamo-fpm' })).toEqual({ ok: true, workerId: '18446744073709551615', metrics: { kvActiveBlocks: 1 } });
    const active = packr.pack({ worker_id: 5, dp_rank: 1, active_decode_blocks: 10, active_prefill_tokens: 300, kv_used_blocks: 12 });
    expect(decodeMetrics(active, { format: 'dynamo-active-load' })).toEqual({
      ok: true,
      workerId: '5',
      dpRank: 1,
      metrics: { activeDecodeBlocks: 10, activePrefillTokens: 300, kvActiveBlocks: 12 },
    });
  });

  it('validates values (non-negative, fractions in [0,1]) and never throws on bad bytes', () => {
    const bad = (s: string) => decodeMetrics(Buffer.from(s), { format: 'dynamo-fpm', workerId: 'w' });
    for (const s of ['{"kv_active_blocks": -1}', '{"gpu_cache_usage_perc": 1.5}', '{"kv_total_blocks": "many"}', '{"kv_stats": {', '\u0000\u0001']) {
      const r = bad(s);
      expect(r.ok).toBe(false);
    }
  });

  it('round-trips encodeMetrics', () => {
    const metrics = { requestActiveSlots: 1, requestTotalSlots: 4, numRequestsWaiting: 0, kvActiveBlocks: 7, kvTotalBlocks: 70, gpuCacheUsagePerc: 0.1, gpuPrefixCacheHitRate: 0.25, activeDecodeBlocks: 3, activePrefillTokens: 9 };
    expect(decodeMetrics(encodeMetrics(metrics, { format: 'dynamo-fpm', workerId: '12', dpRank: 1 }), { format: 'dynamo-fpm' })).toEqual({
      ok: true,
      workerId: '12',
      dpRank: 1,
      metrics: { ...metrics, dataParallelRank: 1 },
    });
    const load = { activeDecodeBlocks: 3, activePrefillTokens: 9, kvActiveBlocks: 4 };
    expect(decodeMetrics(encodeMetrics(load, { format: 'dynamo-active-load', workerId: 'a:1' }), { format: 'dynamo-active-load' })).toEqual({ ok: true, workerId: 'a:1', dpRank: 0, metrics: load });
  });
});

describe('random round trips', () => {
  it('vLLM encode → decode is the identity on the wire fields (200 random batches)', () => {
    const r = rng(11);
    for (let n = 0; n < 200; n++) {
      const blocks = 1 + Math.floor(r() * 5);
      const hashes = Array.from({ length: blocks }, () => randomU64(r));
      const parent = r() < 0.5 ? null : randomU64(r);
      const tokens = randomTokens(r, blocks * 16);
      const style = r() < 0.5 ? 'positional' : 'map';
      const bytes = encodeVllmBatch([{ type: 'BlockStored', blockHashes: hashes, parentBlockHash: parent, tokenIds: tokens }], { style, engineBlockSize: 16, hashForm: r() < 0.5 ? 'i64' : 'u64' });
      const e = ok(decodeEvents(bytes, { format: 'vllm', workerId: 'w', hasher: h16 }))[0] as StoredEvent;
      expect(e.parentHash).toBe(parent);
      expect(e.blocks.map((b) => b.blockHash)).toEqual(hashes);
      expect(e.blocks.map((b) => b.tokensHash)).toEqual([...h16.blockHashes(tokens)]);
    }
  });
});
