/**
 * TensorRT-LLM KV cache events (JSON, as `KVCacheEventSerializer` writes them; DESIGN §5):
 * `{event_id, data: {type, …}, window_size?, attention_dp_rank?}`, one object or an array.
 *
 * - `stored`: `{parent_hash, blocks: [{block_hash, tokens: [{token_id, token_extra_id?}],
 *   lora_id?, cache_level?, priority?}]}`. Tokens are hashed with the router's hasher (token ids
 *   only); `cache_level` 0 is the device tier, 1 the host tier. Consecutive blocks of one level and
 *   adapter form one normalized event; a later run's parent is the previous run's last block.
 * - `removed`: `{block_hashes}` (device tier: the event names no level).
 * - `created`, `updated`: accepted and skipped (`IGNORED_TYPE`).
 */
import type { KvEvent, Tier } from '../radix/types.js';
import { abort } from './errors.js';
import { countIgnoredWithId, hasherFor, removedHashes, splitFactor, storedBlocks, type DecodeContext } from './decode-context.js';
import { cacheLevelToTier } from './tiers.js';
import { describe, engineHashToU64, toSafeUint } from './u64.js';

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** @internal Decodes a parsed TensorRT-LLM message. */
export function decodeTrtllmMessage(ctx: DecodeContext, value: unknown): KvEvent[] {
  const workerId = ctx.workerId;
  if (workerId === undefined) return abort('MISSING_WORKER', 'TensorRT-LLM events do not name their worker: pass workerId');
  const list = Array.isArray(value) ? value : [value];
  const out: KvEvent[] = [];
  for (let i = 0; i < list.length; i++) decodeOne(ctx, list[i], workerId, out);
  return out;
}

function decodeOne(ctx: DecodeContext, e: unknown, workerId: string, out: KvEvent[]): void {
  if (!isMap(e)) return abort('BAD_SHAPE', `event is ${describe(e)}`);
  const eventId = toSafeUint(own(e, 'event_id'), 'event_id');
  const rankRaw = own(e, 'attention_dp_rank');
  const dpRank = rankRaw === null || rankRaw === undefined ? (ctx.dpRank ?? 0) : toSafeUint(rankRaw, 'attention_dp_rank');
  const data = own(e, 'data');
  if (!isMap(data)) return abort('BAD_SHAPE', `data is ${describe(data)}`);
  const type = own(data, 'type');
  if (typeof type !== 'string') return abort('BAD_SHAPE', `data.type is ${describe(type)}`);
  switch (type) {
    case 'stored':
      decodeStored(ctx, data, workerId, dpRank, eventId, out);
      return;
    case 'removed': {
      const list = own(data, 'block_hashes');
      if (!Array.isArray(list)) return abort('BAD_SHAPE', `block_hashes is ${describe(list)}`);
      const hashes = list.map((h: unknown, i) => engineHashToU64(h, `block_hashes[${i}]`));
      const k = splitFactor(ctx.engineBlockSize ?? ctx.hasher.blockSize, ctx.hasher.blockSize);
      out.push({ type: 'removed', workerId, dpRank, eventId, tier: 'device', blockHashes: removedHashes(hashes, k) });
      return;
    }
    case 'created':
    case 'updated':
      countIgnoredWithId(ctx, 'IGNORED_TYPE', { workerId, dpRank, eventId, before: out.length });
      return;
    default:
      countIgnoredWithId(ctx, 'UNKNOWN_EVENT_TYPE', { workerId, dpRank, eventId, before: out.length });
  }
}

interface Run {
  tier: Tier;
  lora: unknown;
  hashes: bigint[];
  tokens: number[];
}

function decodeStored(ctx: DecodeContext, data: Record<string, unknown>, workerId: string, dpRank: number, eventId: number, out: KvEvent[]): void {
  const parentRaw = own(data, 'parent_hash');
  let parentHash: bigint | null = parentRaw === null || parentRaw === undefined ? null : engineHashToU64(parentRaw, 'parent_hash');
  const blocks = own(data, 'blocks');
  if (!Array.isArray(blocks)) return abort('BAD_SHAPE', `blocks is ${describe(blocks)}`);
  let engineBlockSize = -1;
  const runs: Run[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b: unknown = blocks[i];
    if (!isMap(b)) return abort('BAD_SHAPE', `blocks[${i}] is ${describe(b)}`);
    const hash = engineHashToU64(own(b, 'block_hash'), `blocks[${i}].block_hash`);
    const tokens = own(b, 'tokens');
    if (!Array.isArray(tokens)) return abort('BAD_SHAPE', `blocks[${i}].tokens is ${describe(tokens)}`);
    if (engineBlockSize === -1) engineBlockSize = tokens.length;
    else if (tokens.length !== engineBlockSize) abort('TOKEN_COUNT_MISMATCH', `blocks[${i}] has ${tokens.length} tokens, block 0 has ${engineBlockSize}`);
    const levelRaw = own(b, 'cache_level');
    const tier = cacheLevelToTier(levelRaw === null || levelRaw === undefined ? 0 : toSafeUint(levelRaw, 'cache_level'));
    const loraRaw = own(b, 'lora_id');
    const lora = loraRaw === null || loraRaw === undefined || loraRaw === 0 ? undefined : toSafeUint(loraRaw, 'lora_id');
    let run = runs[runs.length - 1];
    if (!run || run.tier !== tier || run.lora !== lora) {
      run = { tier, lora, hashes: [], tokens: [] };
      runs.push(run);
    }
    run.hashes.push(hash);
    for (let t = 0; t < tokens.length; t++) {
      const tok: unknown = tokens[t];
      const id = isMap(tok) ? own(tok, 'token_id') : tok;
      if (typeof id !== 'number') return abort('BAD_SHAPE', `blocks[${i}].tokens[${t}].token_id is ${describe(id)}`);
      run.tokens.push(id);
    }
  }
  for (const run of runs) {
    let loraName: string | undefined;
    if (run.lora !== undefined) {
      loraName = ctx.trtllmLoraName?.(run.lora as number);
      if (loraName === undefined) abort('UNKNOWN_LORA', `no adapter name for lora_id ${String(run.lora)}`, `lora_id:${String(run.lora)}`);
    }
    const hasher = hasherFor(ctx, loraName);
    const normalized = storedBlocks(run.hashes, run.tokens, engineBlockSize, hasher);
    ctx.engineBlockSize = engineBlockSize;
    ctx.sawEngineBlockSize = true;
    out.push({ type: 'stored', workerId, dpRank, eventId, tier: run.tier, parentHash, blocks: normalized });
    parentHash = run.hashes[run.hashes.length - 1]!;
  }
}
