/**
 * Encoders: the bytes engines publish, for the simulator, the publisher helpers and tests.
 * Each is the inverse of its decoder for the fields engines send.
 */
import type { KvEvent, Tier } from '../radix/types.js';
import { stringifyExactJson } from './exact-json.js';
import { packableU64, packr } from './msgpack.js';
import { tierToDynamoTier } from './tiers.js';

/** A vLLM `BlockStored` event as the engine emits it (token ids, not tokens hashes). */
export interface VllmBlockStored {
  type: 'BlockStored';
  /** The engine's hash of each stored block (u64). */
  blockHashes: readonly bigint[];
  /** Hash of the parent of the first block; null / absent for a root chain. */
  parentBlockHash?: bigint | null;
  /** All tokens of the listed blocks (blocks × block size). */
  tokenIds: ArrayLike<number>;
  /** Tokens per engine block; default: the `engineBlockSize` option. */
  blockSize?: number;
  /** LoRA adapter id (vLLM's int id). */
  loraId?: number | null;
  /** vLLM medium (`GPU`, `CPU`, `DISK`…); default `GPU`. */
  medium?: string | null;
  /** LoRA adapter name (folds into the tokens hash seed). */
  loraName?: string | null;
  /** KV-cache group; written only when given. */
  groupIdx?: number;
  /** KV-cache spec kind (`full_attention`, `sliding_window`…); written only when given. */
  kvCacheSpecKind?: string;
}

/** A vLLM `BlockRemoved` event. */
export interface VllmBlockRemoved {
  type: 'BlockRemoved';
  /** Engine hashes of the removed blocks. */
  blockHashes: readonly bigint[];
  /** vLLM medium; default `GPU`. */
  medium?: string | null;
  /** KV-cache group; written only when given. */
  groupIdx?: number;
}

/** A vLLM `AllBlocksCleared` event. */
export interface VllmAllBlocksCleared {
  type: 'AllBlocksCleared';
}

/** One event of a vLLM batch, engine-side (what {@link encodeVllmBatch} writes). */
export type VllmEngineEvent = VllmBlockStored | VllmBlockRemoved | VllmAllBlocksCleared;

/** Options of {@link encodeVllmBatch}. */
export interface EncodeVllmOptions {
  /** Event encoding: positional arrays (vLLM ≤ 0.10) or maps with `type` (newer vLLM, SGLang). */
  style: 'positional' | 'map';
  /** Engine block size: the `block_size` of stored events that do not give their own. */
  engineBlockSize: number;
  /** Data-parallel rank, written as the batch's third field (null when absent). */
  dpRank?: number;
  /** Batch timestamp in seconds since the epoch; default now. */
  ts?: number;
  /**
   * How hashes are written: `u64` (default), `i64` (hashes ≥ 2^63 as negative integers, as engines
   * packing Python's signed hashes do) or `bytes32` (a 32-byte digest whose last 8 bytes are the hash).
   */
  hashForm?: 'u64' | 'i64' | 'bytes32';
  /** Write a two-field batch `[ts, events]` (vLLM ≤ 0.8); `dpRank` is then not written. */
  twoFields?: boolean;
}

function hashWriter(form: EncodeVllmOptions['hashForm']): (h: bigint) => unknown {
  if (form === 'i64') return (h) => packableU64Signed(BigInt.asIntN(64, h));
  if (form === 'bytes32') {
    return (h) => {
      const b = new Uint8Array(32);
      // Non-zero filler so a decoder that read the wrong bytes would notice.
      b.fill(0xa5, 0, 24);
      new DataView(b.buffer).setBigUint64(24, h, false);
      return b;
    };
  }
  return (h) => packableU64(h);
}

function packableU64Signed(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

function checkHash(h: unknown, what: string): bigint {
  if (typeof h !== 'bigint' || h < 0n || h >= 1n << 64n) throw new TypeError(`${what} must be a u64 bigint, got ${String(h)}`);
  return h;
}

/**
 * Encodes a vLLM / SGLang KV event batch (the msgpack third ZMQ frame), the inverse of the `vllm`
 * decoder. Throws `TypeError` on invalid events.
 */
export function encodeVllmBatch(events: readonly VllmEngineEvent[], options: EncodeVllmOptions): Uint8Array {
  if (!Array.isArray(events as unknown)) throw new TypeError('events must be an array');
  if (options.style !== 'positional' && options.style !== 'map') throw new TypeError(`style must be 'positional' | 'map', got ${String(options.style)}`);
  if (!Number.isSafeInteger(options.engineBlockSize) || options.engineBlockSize <= 0) {
    throw new RangeError(`engineBlockSize must be a positive integer, got ${options.engineBlockSize}`);
  }
  const hash = hashWriter(options.hashForm);
  const positional = options.style === 'positional';
  const list: readonly VllmEngineEvent[] = events;
  const out: unknown[] = list.map((e: VllmEngineEvent, i: number) => {
    if (e.type === 'BlockStored') {
      const blockHashes = e.blockHashes.map((h, j) => hash(checkHash(h, `events[${i}].blockHashes[${j}]`)));
      const parent = e.parentBlockHash === null || e.parentBlockHash === undefined ? null : hash(checkHash(e.parentBlockHash, `events[${i}].parentBlockHash`));
      const tokens = Array.from(e.tokenIds);
      const blockSize = e.blockSize ?? options.engineBlockSize;
      const extended = e.groupIdx !== undefined || e.kvCacheSpecKind !== undefined;
      if (positional) {
        const fields: unknown[] = ['BlockStored', blockHashes, parent, tokens, blockSize, e.loraId ?? null, e.medium ?? 'GPU', e.loraName ?? null];
        if (extended) fields.push(null, e.groupIdx ?? 0, e.kvCacheSpecKind ?? 'full_attention', null);
        return fields;
      }
      const m: Record<string, unknown> = {
        type: 'BlockStored',
        block_hashes: blockHashes,
        parent_block_hash: parent,
        token_ids: tokens,
        block_size: blockSize,
        lora_id: e.loraId ?? null,
        medium: e.medium ?? 'GPU',
        lora_name: e.loraName ?? null,
      };
      if (extended) {
        m.group_idx = e.groupIdx ?? 0;
        m.kv_cache_spec_kind = e.kvCacheSpecKind ?? 'full_attention';
      }
      return m;
    }
    if (e.type === 'BlockRemoved') {
      const blockHashes = e.blockHashes.map((h, j) => hash(checkHash(h, `events[${i}].blockHashes[${j}]`)));
      if (positional) {
        const fields: unknown[] = ['BlockRemoved', blockHashes, e.medium ?? 'GPU'];
        if (e.groupIdx !== undefined) fields.push(e.groupIdx);
        return fields;
      }
      const m: Record<string, unknown> = { type: 'BlockRemoved', block_hashes: blockHashes, medium: e.medium ?? 'GPU' };
      if (e.groupIdx !== undefined) m.group_idx = e.groupIdx;
      return m;
    }
    if (e.type === 'AllBlocksCleared') return positional ? ['AllBlocksCleared'] : { type: 'AllBlocksCleared' };
    throw new TypeError(`events[${i}] has unknown type ${String((e as { type?: unknown }).type)}`);
  });
  const ts = options.ts ?? Date.now() / 1000;
  const batch = options.twoFields ? [ts, out] : [ts, out, options.dpRank ?? null];
  return packr.pack(batch);
}

/** Wire forms of {@link encodeDynamoEvent}. */
export type DynamoEncoding = 'json' | 'msgpack' | 'msgpack-positional';

function workerIdValue(workerId: string): bigint | number | string {
  if (/^(0|[1-9][0-9]{0,19})$/.test(workerId)) {
    const v = BigInt(workerId);
    if (v < 1n << 64n) return v <= 9007199254740991n ? Number(v) : v;
  }
  return workerId;
}

function dynamoTier(tier: Tier | undefined): string {
  return tierToDynamoTier(tier);
}

function routerEventValue(e: KvEvent, positional: boolean, u64: (v: bigint) => unknown): unknown {
  const eventId = e.eventId ?? 0;
  const dpRank = e.dpRank ?? 0;
  let data: unknown;
  if (e.type === 'cleared') {
    data = 'cleared';
  } else if (e.type === 'stored') {
    const parent = e.parentHash === null || e.parentHash === undefined ? null : u64(e.parentHash);
    const blocks = e.blocks.map((b) => (positional ? [u64(b.blockHash), u64(b.tokensHash)] : { block_hash: u64(b.blockHash), tokens_hash: u64(b.tokensHash) }));
    data = { stored: positional ? [parent, blocks] : { parent_hash: parent, blocks } };
  } else {
    const hashes = e.blockHashes.map(u64);
    data = { removed: positional ? [hashes] : { block_hashes: hashes } };
  }
  const worker = workerIdValue(e.workerId);
  if (positional) return [worker, dynamoTier(e.tier), [eventId, data, dpRank]];
  return { worker_id: worker, storage_tier: dynamoTier(e.tier), event: { event_id: eventId, data, dp_rank: dpRank } };
}

/**
 * Encodes normalized events as NVIDIA Dynamo `RouterEvent`s (one event → one RouterEvent; an array
 * → an array of them): JSON with exact u64 integers, or MessagePack with named or positional fields.
 * `workerId` is written as an integer when it is a decimal u64; `eventId` defaults to 0.
 */
export function encodeDynamoEvent(event: KvEvent | readonly KvEvent[], encoding: DynamoEncoding): Uint8Array {
  if (encoding !== 'json' && encoding !== 'msgpack' && encoding !== 'msgpack-positional') {
    throw new TypeError(`encoding must be 'json' | 'msgpack' | 'msgpack-positional', got ${String(encoding)}`);
  }
  const positional = encoding === 'msgpack-positional';
  const u64 = encoding === 'json' ? (v: bigint): unknown => checkHash(v, 'hash') : (v: bigint): unknown => packableU64(checkHash(v, 'hash'));
  const value = Array.isArray(event)
    ? (event as readonly KvEvent[]).map((e) => routerEventValue(e, positional, u64))
    : routerEventValue(event as KvEvent, positional, u64);
  if (encoding === 'json') return new TextEncoder().encode(stringifyExactJson(value));
  return packr.pack(value);
}

/** A TensorRT-LLM event as the engine emits it (what {@link encodeTrtllmEvents} writes). */
export type TrtllmEngineEvent =
  | {
      type: 'stored';
      eventId: number;
      parentHash?: bigint | null;
      /** Each block: its hash, its tokens, and optionally its cache level (0 GPU, 1 host) and LoRA id. */
      blocks: ReadonlyArray<{ blockHash: bigint; tokenIds: ArrayLike<number>; cacheLevel?: number; loraId?: number | null }>;
      attentionDpRank?: number;
    }
  | { type: 'removed'; eventId: number; blockHashes: readonly bigint[]; attentionDpRank?: number }
  | { type: 'created' | 'updated'; eventId: number; attentionDpRank?: number };

/** Encodes TensorRT-LLM KV cache events as the JSON array its serializer writes (exact u64). */
export function encodeTrtllmEvents(events: readonly TrtllmEngineEvent[]): Uint8Array {
  const list = events.map((e) => {
    let data: Record<string, unknown>;
    if (e.type === 'stored') {
      data = {
        type: 'stored',
        parent_hash: e.parentHash ?? null,
        blocks: e.blocks.map((b) => ({
          type: 'stored_block',
          block_hash: checkHash(b.blockHash, 'blockHash'),
          tokens: Array.from(b.tokenIds, (t) => ({ type: 'unique_token', token_id: t, token_extra_id: 0 })),
          lora_id: b.loraId ?? null,
          cache_level: b.cacheLevel ?? 0,
          priority: 35,
        })),
      };
    } else if (e.type === 'removed') {
      data = { type: 'removed', block_hashes: e.blockHashes.map((h) => checkHash(h, 'blockHash')) };
    } else if (e.type === 'created') {
      data = { type: 'created', num_blocks_per_cache_level: [0, 0] };
    } else {
      data = { type: 'updated', block_hash: 0, cache_level: null, priority: null };
    }
    return { event_id: e.eventId, data, window_size: 0, attention_dp_rank: e.attentionDpRank };
  });
  return new TextEncoder().encode(stringifyExactJson(list));
}
