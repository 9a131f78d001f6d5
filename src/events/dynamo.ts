/**
 * NVIDIA Dynamo `RouterEvent`s (DESIGN §5), from exact JSON or MessagePack, named or positional:
 *
 * - named: `{worker_id, storage_tier?, residency_domain?, event: {event_id, data, dp_rank?}}`
 * - positional: `[worker_id, storage_tier, event]` (older: `[worker_id, event]`; newer:
 *   `[worker_id, storage_tier, residency_domain, event, state_source?]`), with
 *   `event = [event_id, data, dp_rank]`
 * - `data`: `"cleared"`, `{"stored": {parent_hash, start_position?, blocks: [{block_hash,
 *   tokens_hash}]}}` (positional `[parent_hash, blocks]` or `[parent_hash, start_position, blocks]`,
 *   blocks `[block_hash, tokens_hash, …]`), `{"removed": {block_hashes}}` (positional `[block_hashes]`).
 *
 * A message may also be an array of RouterEvents. Hashes must be u64: negative or ≥ 2^64 is `BAD_HASH`.
 */
import type { KvEvent, StoredBlock, Tier } from '../radix/types.js';
import { abort } from './errors.js';
import { countIgnoredWithId, removedHashes, splitFactor, type DecodeContext } from './decode-context.js';
import { dynamoTierToTier, SHARED } from './tiers.js';
import { describe, toSafeUint, unsignedToDecimal, unsignedToU64 } from './u64.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function isScalarId(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string';
}

/** @internal Decodes an unpacked / parsed Dynamo message (one RouterEvent or an array of them). */
export function decodeDynamoMessage(ctx: DecodeContext, value: unknown): KvEvent[] {
  const out: KvEvent[] = [];
  if (Array.isArray(value) && (value.length === 0 || !isScalarId(value[0]))) {
    for (let i = 0; i < value.length; i++) decodeRouterEvent(ctx, value[i], out);
  } else {
    decodeRouterEvent(ctx, value, out);
  }
  return out;
}

function decodeRouterEvent(ctx: DecodeContext, value: unknown, out: KvEvent[]): void {
  let workerRaw: unknown;
  let tierRaw: unknown;
  let domain: unknown;
  let event: unknown;
  if (isMap(value)) {
    workerRaw = own(value, 'worker_id');
    tierRaw = own(value, 'storage_tier');
    domain = own(value, 'residency_domain');
    event = own(value, 'event');
  } else if (Array.isArray(value)) {
    workerRaw = value[0];
    tierRaw = value[1];
    if (value.length === 2) {
      // Older Dynamo: RouterEvent {worker_id, event}, no storage tier.
      tierRaw = undefined;
      event = value[1];
    } else if (value.length >= 4 && !isMap(value[2]) && !Array.isArray(value[2])) {
      domain = value[2];
      event = value[3];
    } else {
      event = value[2];
    }
  } else {
    return abort('BAD_SHAPE', `RouterEvent is ${describe(value)}`);
  }
  const workerId = workerRaw === null || workerRaw === undefined ? ctx.workerId : unsignedToDecimal(workerRaw, 'worker_id');
  if (workerId === undefined) return abort('MISSING_WORKER', 'RouterEvent has no worker_id and no workerId was given');

  let eventIdRaw: unknown;
  let data: unknown;
  let rankRaw: unknown;
  if (isMap(event)) {
    eventIdRaw = own(event, 'event_id');
    data = own(event, 'data');
    rankRaw = own(event, 'dp_rank');
  } else if (Array.isArray(event)) {
    eventIdRaw = event[0];
    data = event[1];
    rankRaw = event[2];
  } else {
    return abort('BAD_SHAPE', `event is ${describe(event)}`);
  }
  const eventId = toSafeUint(eventIdRaw, 'event_id');
  const dpRank = rankRaw === null || rankRaw === undefined ? (ctx.dpRank ?? 0) : toSafeUint(rankRaw, 'dp_rank');
  const tier = dynamoTierToTier(tierRaw);
  if (tier === undefined) abort('UNKNOWN_MEDIUM', `storage_tier ${describe(tierRaw)} names no known tier`);
  if (domain !== null && domain !== undefined && domain !== 'worker') {
    if (domain === 'cache_owner') {
      countIgnoredWithId(ctx, 'SHARED_TIER', { workerId, dpRank, eventId, before: out.length });
      return;
    }
    abort('BAD_SHAPE', `residency_domain ${describe(domain)}`);
  }

  let variant: string;
  let body: unknown;
  if (typeof data === 'string') {
    variant = data.toLowerCase();
    body = undefined;
  } else if (isMap(data)) {
    const keys = Object.keys(data);
    if (keys.length !== 1) return abort('BAD_SHAPE', `event data has ${keys.length} keys, expected one of stored / removed / cleared`);
    variant = keys[0]!.toLowerCase();
    body = data[keys[0]!];
  } else {
    return abort('BAD_SHAPE', `event data is ${describe(data)}`);
  }

  if (variant === 'cleared') {
    out.push({ type: 'cleared', workerId, dpRank, eventId });
    return;
  }
  if (variant !== 'stored' && variant !== 'removed') {
    countIgnoredWithId(ctx, 'UNKNOWN_EVENT_TYPE', { workerId, dpRank, eventId, before: out.length });
    return;
  }
  if (tier === SHARED) {
    countIgnoredWithId(ctx, 'SHARED_TIER', { workerId, dpRank, eventId, before: out.length });
    return;
  }
  if (variant === 'stored') out.push(decodeStored(body, workerId, dpRank, eventId, tier));
  else out.push(decodeRemoved(ctx, body, workerId, dpRank, eventId, tier));
}

function decodeStored(body: unknown, workerId: string, dpRank: number, eventId: number, tier: Tier): KvEvent {
  let parentRaw: unknown;
  let blocksRaw: unknown;
  if (isMap(body)) {
    parentRaw = own(body, 'parent_hash');
    blocksRaw = own(body, 'blocks');
  } else if (Array.isArray(body)) {
    parentRaw = body[0];
    // Newer Dynamo inserted `start_position` before `blocks`.
    blocksRaw = Array.isArray(body[1]) ? body[1] : body[2];
  } else {
    return abort('BAD_SHAPE', `stored data is ${describe(body)}`);
  }
  const parentHash = parentRaw === null || parentRaw === undefined ? null : unsignedToU64(parentRaw, 'parent_hash');
  if (!Array.isArray(blocksRaw)) return abort('BAD_SHAPE', `blocks is ${describe(blocksRaw)}, expected an array`);
  const blocks: StoredBlock[] = new Array(blocksRaw.length);
  for (let i = 0; i < blocksRaw.length; i++) {
    const b: unknown = blocksRaw[i];
    let bh: unknown;
    let th: unknown;
    if (isMap(b)) {
      bh = own(b, 'block_hash');
      th = own(b, 'tokens_hash');
    } else if (Array.isArray(b)) {
      bh = b[0];
      th = b[1];
    } else {
      return abort('BAD_SHAPE', `blocks[${i}] is ${describe(b)}`);
    }
    blocks[i] = { blockHash: unsignedToU64(bh, `blocks[${i}].block_hash`), tokensHash: unsignedToU64(th, `blocks[${i}].tokens_hash`) };
  }
  return { type: 'stored', workerId, dpRank, eventId, tier, parentHash, blocks };
}

function decodeRemoved(ctx: DecodeContext, body: unknown, workerId: string, dpRank: number, eventId: number, tier: Tier): KvEvent {
  const list = isMap(body) ? own(body, 'block_hashes') : Array.isArray(body) && Array.isArray(body[0]) ? body[0] : body;
  if (!Array.isArray(list)) return abort('BAD_SHAPE', `block_hashes is ${describe(list)}, expected an array`);
  const hashes: bigint[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) hashes[i] = unsignedToU64(list[i], `block_hashes[${i}]`);
  // Dynamo events carry tokens hashes computed by the worker at the router's block size, so no split
  // applies, unless the caller says this worker's engine blocks are larger.
  const k = ctx.engineBlockSize === undefined ? 1 : splitFactor(ctx.engineBlockSize, ctx.hasher.blockSize);
  return { type: 'removed', workerId, dpRank, eventId, tier, blockHashes: removedHashes(hashes, k) };
}
