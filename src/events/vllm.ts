/**
 * vLLM / SGLang KV event batches (MessagePack; DESIGN §5): the field semantics, shared with the
 * in-place fast path (`vllm-fast.ts`), and a generic walk over a msgpackr-unpacked value that the
 * tests use as the reference decoder. Hand-written: zod is too slow for this path.
 */
import type { KvEvent } from '../radix/types.js';
import { abort } from './errors.js';
import {
  countIgnored,
  hasherFor,
  removedHashes,
  splitFactor,
  storedBlocks,
  type DecodeContext,
} from './decode-context.js';
import { mediumToTier, SHARED } from './tiers.js';
import { describe, engineHashToU64, toSafeUint } from './u64.js';

/** Positions of BlockStored fields after the type tag (fields are only ever appended). */
export const STORED_FIELDS = [
  'block_hashes',
  'parent_block_hash',
  'token_ids',
  'block_size',
  'lora_id',
  'medium',
  'lora_name',
  'extra_keys',
  'group_idx',
  'kv_cache_spec_kind',
  'kv_cache_spec_sliding_window',
  'locality',
] as const;
export const REMOVED_FIELDS = ['block_hashes', 'medium', 'group_idx', 'locality'] as const;

/** @internal A field of an event by position (after the tag) or by name. */
export type Fields = (index: number, name: string) => unknown;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** @internal Decodes an unpacked vLLM batch. */
export function decodeVllmBatch(ctx: DecodeContext, batch: unknown): { events: KvEvent[]; timestampMs?: number } {
  let ts: unknown;
  let list: unknown;
  let rank: unknown;
  if (Array.isArray(batch)) {
    if (batch.length < 2) abort('BAD_SHAPE', `batch has ${batch.length} fields, expected [ts, events, dpRank?]`);
    ts = batch[0];
    list = batch[1];
    rank = batch[2];
  } else if (isPlainObject(batch)) {
    ts = own(batch, 'ts');
    list = own(batch, 'events');
    rank = own(batch, 'data_parallel_rank') ?? own(batch, 'dp_rank');
  } else {
    return abort('BAD_SHAPE', `batch is ${describe(batch)}, expected an array or a map`);
  }
  if (!Array.isArray(list)) abort('BAD_SHAPE', `events is ${describe(list)}, expected an array`);
  const workerId = ctx.workerId;
  if (workerId === undefined) return abort('MISSING_WORKER', 'vLLM batches do not name their worker: pass workerId');
  const dpRank = rank === null || rank === undefined ? (ctx.dpRank ?? 0) : toSafeUint(rank, 'data_parallel_rank');
  let timestampMs: number | undefined;
  if (typeof ts === 'number' && Number.isFinite(ts)) timestampMs = ts * 1000;
  else if (ts !== null && ts !== undefined && typeof ts !== 'bigint') abort('BAD_SHAPE', `ts is ${describe(ts)}`);
  else if (typeof ts === 'bigint') timestampMs = Number(ts) * 1000;

  const events: KvEvent[] = [];
  for (let i = 0; i < list.length; i++) {
    const e: unknown = list[i];
    let tag: unknown;
    let get: Fields;
    if (Array.isArray(e)) {
      tag = e[0];
      get = (index) => e[index + 1];
    } else if (isPlainObject(e)) {
      tag = own(e, 'type');
      get = (_index, name) => own(e, name);
    } else {
      return abort('BAD_SHAPE', `event ${i} is ${describe(e)}`);
    }
    if (typeof tag !== 'string') abort('BAD_SHAPE', `event ${i} type is ${describe(tag)}`);
    if (tag === 'BlockStored') {
      const ev = decodeStored(ctx, get, workerId, dpRank);
      if (ev) events.push(ev);
    } else if (tag === 'BlockRemoved') {
      const ev = decodeRemoved(ctx, get, workerId, dpRank);
      if (ev) events.push(ev);
    } else if (tag === 'AllBlocksCleared') {
      events.push({ type: 'cleared', workerId, dpRank });
    } else {
      countIgnored(ctx, 'UNKNOWN_EVENT_TYPE');
    }
  }
  return timestampMs === undefined ? { events } : { events, timestampMs };
}

/** Group, spec kind and locality filters shared by stored and removed events; true to skip. */
function skipped(ctx: DecodeContext, group: unknown, kind: unknown, locality: unknown): boolean {
  if (group !== null && group !== undefined && group !== 0 && group !== 0n) {
    if (typeof group !== 'number' && typeof group !== 'bigint') abort('BAD_SHAPE', `group_idx is ${describe(group)}`);
    countIgnored(ctx, 'OTHER_KV_GROUP');
    return true;
  }
  if (kind !== null && kind !== undefined && kind !== 'full_attention') {
    if (typeof kind !== 'string') abort('BAD_SHAPE', `kv_cache_spec_kind is ${describe(kind)}`);
    if (kind.toLowerCase() !== 'full_attention') {
      countIgnored(ctx, 'NOT_FULL_ATTENTION');
      return true;
    }
  }
  if (typeof locality === 'string' && locality.toUpperCase() === 'REMOTE') {
    countIgnored(ctx, 'REMOTE_LOCALITY');
    return true;
  }
  return false;
}

function tierOf(ctx: DecodeContext, medium: unknown): ReturnType<typeof mediumToTier> {
  const tier = mediumToTier(medium);
  if (tier === undefined) abort('UNKNOWN_MEDIUM', `medium ${describe(medium)} names no known tier`);
  if (tier === SHARED) countIgnored(ctx, 'SHARED_TIER');
  return tier;
}

function hashList(v: unknown, what: string): bigint[] {
  if (!Array.isArray(v)) return abort('BAD_SHAPE', `${what} is ${describe(v)}, expected an array`);
  const out: bigint[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const h: unknown = v[i];
    // Most hashes are u64 ≥ 2^32, which msgpackr already returns as bigint.
    out[i] = typeof h === 'bigint' && h >= 0n && h <= 0xffffffffffffffffn ? h : engineHashToU64(h, `${what}[${i}]`);
  }
  return out;
}

/** @internal */
export function decodeStored(ctx: DecodeContext, get: Fields, workerId: string, dpRank: number): KvEvent | undefined {
  if (skipped(ctx, get(8, STORED_FIELDS[8]), get(9, STORED_FIELDS[9]), get(11, STORED_FIELDS[11]))) return undefined;
  const tier = tierOf(ctx, get(5, STORED_FIELDS[5]));
  if (tier === SHARED) return undefined;
  const hashes = hashList(get(0, STORED_FIELDS[0]), 'block_hashes');
  const parentRaw = get(1, STORED_FIELDS[1]);
  const parentHash = parentRaw === null || parentRaw === undefined ? null : engineHashToU64(parentRaw, 'parent_block_hash');
  const tokens = get(2, STORED_FIELDS[2]);
  // The fast path hands over a Uint32Array of already-checked u32 tokens.
  if (!Array.isArray(tokens) && !(tokens instanceof Uint32Array)) return abort('BAD_SHAPE', `token_ids is ${describe(tokens)}, expected an array`);
  const sizeRaw = get(3, STORED_FIELDS[3]);
  let engineBlockSize: number;
  if (sizeRaw === null || sizeRaw === undefined) {
    // Only very old engines omit it: infer it from the token count.
    if (hashes.length === 0 || tokens.length % hashes.length !== 0) abort('TOKEN_COUNT_MISMATCH', `${tokens.length} tokens for ${hashes.length} blocks`);
    engineBlockSize = hashes.length === 0 ? ctx.hasher.blockSize : tokens.length / hashes.length;
  } else {
    engineBlockSize = toSafeUint(sizeRaw, 'block_size');
  }
  const loraName = get(6, STORED_FIELDS[6]);
  const loraId = get(4, STORED_FIELDS[4]);
  if ((loraName === null || loraName === undefined || loraName === '') && loraId !== null && loraId !== undefined && loraId !== 0 && loraId !== 0n) {
    abort('UNKNOWN_LORA', `lora_id ${describe(loraId)} without lora_name: the adapter name is needed to hash its blocks`);
  }
  const hasher = hasherFor(ctx, loraName);
  const blocks = storedBlocks(hashes, tokens as ArrayLike<number>, engineBlockSize, hasher);
  // Removals carry no block size: later ones are split like this store.
  ctx.engineBlockSize = engineBlockSize;
  ctx.sawEngineBlockSize = true;
  return { type: 'stored', workerId, dpRank, tier, parentHash, blocks };
}

/** @internal */
export function decodeRemoved(ctx: DecodeContext, get: Fields, workerId: string, dpRank: number): KvEvent | undefined {
  if (skipped(ctx, get(2, REMOVED_FIELDS[2]), undefined, get(3, REMOVED_FIELDS[3]))) return undefined;
  const tier = tierOf(ctx, get(1, REMOVED_FIELDS[1]));
  if (tier === SHARED) return undefined;
  const hashes = hashList(get(0, REMOVED_FIELDS[0]), 'block_hashes');
  const k = splitFactor(ctx.engineBlockSize ?? ctx.hasher.blockSize, ctx.hasher.blockSize);
  return { type: 'removed', workerId, dpRank, tier, blockHashes: removedHashes(hashes, k) };
}
