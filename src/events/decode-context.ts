import type { BlockHasher } from '../hashing/types.js';
import type { StoredBlock, Tier } from '../radix/types.js';
import { abort, type IgnoreReason, type IgnoredCounts, type SkippedEventId } from './errors.js';
import type { EventFormat } from './types.js';
import { subBlockHash } from './u64.js';

/** @internal State shared by one decode call. */
export interface DecodeContext {
  format: EventFormat;
  workerId: string | undefined;
  dpRank: number | undefined;
  hasher: BlockHasher;
  loraHasher: ((loraName: string) => BlockHasher | undefined) | undefined;
  trtllmLoraName: ((loraId: number) => string | undefined) | undefined;
  /** Engine block size for removals (they do not carry it); defaults to the router's. */
  engineBlockSize: number | undefined;
  /** Set when a stored event of this message gave its block size. */
  sawEngineBlockSize: boolean;
  ignored: IgnoredCounts | undefined;
  /** Ids of skipped events that carried one (the ingestor's id tracking must still see them). */
  skippedIds: SkippedEventId[] | undefined;
}

/** @internal */
export function countIgnoredWithId(ctx: DecodeContext, reason: IgnoreReason, id: SkippedEventId): void {
  countIgnored(ctx, reason);
  (ctx.skippedIds ??= []).push(id);
}

/** @internal */
export function countIgnored(ctx: DecodeContext, reason: IgnoreReason): void {
  const ignored = (ctx.ignored ??= {});
  ignored[reason] = (ignored[reason] ?? 0) + 1;
}

/** @internal The hasher for blocks of a LoRA adapter (or of the base model when the name is empty). */
export function hasherFor(ctx: DecodeContext, loraName: unknown): BlockHasher {
  if (loraName === null || loraName === undefined || loraName === '') return ctx.hasher;
  if (typeof loraName !== 'string') return abort('BAD_SHAPE', 'lora_name is not a string');
  const h = ctx.loraHasher?.(loraName);
  if (!h) return abort('UNKNOWN_LORA', `no hasher for LoRA adapter "${loraName}"`, loraName);
  if (h.blockSize !== ctx.hasher.blockSize) {
    return abort('BLOCK_SIZE_MISMATCH', `LoRA hasher block size ${h.blockSize} differs from ${ctx.hasher.blockSize}`);
  }
  return h;
}

/** @internal Router sub-blocks per engine block, or a `BLOCK_SIZE_MISMATCH` error. */
export function splitFactor(engineBlockSize: number, routerBlockSize: number): number {
  if (engineBlockSize === routerBlockSize) return 1;
  if (engineBlockSize > routerBlockSize && engineBlockSize % routerBlockSize === 0) return engineBlockSize / routerBlockSize;
  return abort(
    'BLOCK_SIZE_MISMATCH',
    `engine block size ${engineBlockSize} is not the router's ${routerBlockSize} nor a whole multiple of it`,
  );
}

/** @internal Checks tokens are u32 and hashes them; throws a decode abort on bad tokens. */
export function tokensHashes(hasher: BlockHasher, tokens: ArrayLike<number>): BigUint64Array {
  // A Uint32Array holds u32 by construction (the fast path fills one).
  if (!(tokens instanceof Uint32Array)) for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (typeof t !== 'number' || t >>> 0 !== t) {
      abort('BAD_SHAPE', `token ${i} is ${typeof t === 'number' ? t : typeof t}, expected a u32`);
    }
  }
  return hasher.blockHashes(tokens);
}

/**
 * @internal Normalized blocks of a stored event: `engineHashes.length` engine blocks of
 * `engineBlockSize` tokens each, split into router blocks when the engine's blocks are larger.
 */
export function storedBlocks(
  engineHashes: readonly bigint[],
  tokens: ArrayLike<number>,
  engineBlockSize: number,
  hasher: BlockHasher,
): StoredBlock[] {
  const n = engineHashes.length;
  if (!Number.isSafeInteger(engineBlockSize) || engineBlockSize <= 0) abort('BAD_SHAPE', `block_size ${engineBlockSize} is not a positive integer`);
  const k = splitFactor(engineBlockSize, hasher.blockSize);
  if (tokens.length !== n * engineBlockSize) {
    abort('TOKEN_COUNT_MISMATCH', `${tokens.length} tokens for ${n} blocks of ${engineBlockSize}`);
  }
  const th = tokensHashes(hasher, tokens);
  if (th.length !== n * k) abort('INTERNAL', `hasher returned ${th.length} hashes for ${n * k} blocks`);
  const blocks: StoredBlock[] = new Array(n * k);
  if (k === 1) {
    for (let i = 0; i < n; i++) blocks[i] = { blockHash: engineHashes[i]!, tokensHash: th[i]! };
  } else {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) blocks[i * k + j] = { blockHash: subBlockHash(engineHashes[i]!, j, k), tokensHash: th[i * k + j]! };
    }
  }
  return blocks;
}

/** @internal Block hashes a removal of engine blocks drops (k router sub-blocks each). */
export function removedHashes(engineHashes: bigint[], k: number): bigint[] {
  if (k === 1) return engineHashes;
  const out: bigint[] = [];
  for (const h of engineHashes) for (let j = 0; j < k; j++) out.push(subBlockHash(h, j, k));
  return out;
}

/** @internal */
export function isTier(t: unknown): t is Tier {
  return t === 'device' || t === 'host' || t === 'disk';
}
