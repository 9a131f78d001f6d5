import type { BlockHasher } from '../hashing/types.js';
import type { KvEvent } from '../radix/types.js';
import { DecodeAbort, DecodeError, type DecodeResult, type DecodeSuccess, type IgnoredCounts } from './errors.js';
import type { DecodeContext } from './decode-context.js';
import { decodeDynamoMessage } from './dynamo.js';
import { JsonSyntaxError, parseExactJson } from './exact-json.js';
import { unpackOne } from './msgpack.js';
import { decodeTrtllmMessage } from './trtllm.js';
import type { EventFormat } from './types.js';
import { decodeVllmBatch } from './vllm.js';
import { decodeVllmBytes } from './vllm-fast.js';
import { ReaderAbort } from './msgpack-reader.js';

/** Default bound on a message's size: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Options of {@link decodeEvents}. */
export interface DecodeOptions {
  /** Wire format of the payload. */
  format: EventFormat;
  /**
   * Worker the message is from. Required for `vllm` and `trtllm` (their payloads do not name it);
   * a Dynamo payload's `worker_id` takes precedence.
   */
  workerId?: string;
  /** Data-parallel rank when the transport knows it; a rank in the payload takes precedence. Default 0. */
  dpRank?: number;
  /** The router's hasher: its block size is the router's, and it turns token ids into tokens hashes. */
  hasher: BlockHasher;
  /**
   * Hasher for blocks of a LoRA adapter (its name folds into the seed): return one made with
   * `createHasher({ blockSize, loraName })`, or `undefined` when none is ready (the message is then
   * an `UNKNOWN_LORA` error). Without it, any LoRA block is `UNKNOWN_LORA`.
   */
  loraHasher?: (loraName: string) => BlockHasher | undefined;
  /** TensorRT-LLM events name adapters by numeric `lora_id`: map one to its adapter name. */
  trtllmLoraName?: (loraId: number) => string | undefined;
  /**
   * The engine's block size, for removals, which do not carry it: each removed engine block then
   * drops its `engineBlockSize / hasher.blockSize` router sub-blocks. Default: the router's block
   * size (stored events carry their own and are checked against the hasher's).
   */
  engineBlockSize?: number;
  /** Messages longer than this are rejected before decoding (`MESSAGE_TOO_LARGE`). Default 16 MiB. */
  maxMessageBytes?: number;
  /**
   * Decode `vllm` with the generic walk over a msgpackr-unpacked value instead of the in-place
   * fast path (same results; the tests compare the two).
   * @internal
   */
  referenceDecoder?: boolean;
}

const NO_IGNORED: IgnoredCounts = Object.freeze({}) as IgnoredCounts;

function checkOptions(options: DecodeOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`decodeEvents options must be an object, got ${String(options)}`);
  const f = options.format;
  if (f !== 'vllm' && f !== 'dynamo-json' && f !== 'dynamo-msgpack' && f !== 'trtllm') {
    throw new TypeError(`format must be 'vllm' | 'dynamo-json' | 'dynamo-msgpack' | 'trtllm', got ${String(f)}`);
  }
  const h = options.hasher as Partial<BlockHasher> | undefined;
  if (!h || typeof h.blockHashes !== 'function' || !Number.isSafeInteger(h.blockSize) || (h.blockSize as number) <= 0) {
    throw new TypeError('hasher must be a BlockHasher (from createHasher)');
  }
  if (options.workerId !== undefined && typeof options.workerId !== 'string') throw new TypeError(`workerId must be a string, got ${typeof options.workerId}`);
  if (options.dpRank !== undefined && (!Number.isSafeInteger(options.dpRank) || options.dpRank < 0)) {
    throw new RangeError(`dpRank must be a non-negative integer, got ${options.dpRank}`);
  }
  if (options.engineBlockSize !== undefined && (!Number.isSafeInteger(options.engineBlockSize) || options.engineBlockSize <= 0)) {
    throw new RangeError(`engineBlockSize must be a positive integer, got ${options.engineBlockSize}`);
  }
  if (options.maxMessageBytes !== undefined && !(options.maxMessageBytes > 0)) {
    throw new RangeError(`maxMessageBytes must be positive, got ${options.maxMessageBytes}`);
  }
}

/**
 * Decodes one message of KV events into normalized {@link KvEvent}s.
 *
 * Never throws on any payload: bad bytes give `{ ok: false, error }` with a {@link DecodeError}
 * (format, worker, reason code, byte offset where known). A message decodes whole or not at all.
 * Invalid *options* (a programming error) throw `TypeError` / `RangeError`.
 *
 * Skipped events (other KV groups, non-full-attention specs, unknown event types, TensorRT-LLM
 * `created` / `updated`, shared tiers) are counted in `ignored`.
 *
 * @example
 * ```ts
 * const hasher = await createHasher({ blockSize: 16 });
 * const r = decodeEvents(frame, { format: 'vllm', workerId: '10.0.0.7:5557', hasher });
 * if (r.ok) for (const e of r.events) index.apply(e);
 * else console.warn(r.error.reason, r.error.message);
 * ```
 */
export function decodeEvents(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  checkOptions(options);
  const { format } = options;
  const details = { format, workerId: options.workerId, dpRank: options.dpRank };
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, error: new DecodeError('BAD_SHAPE', `payload must be a Uint8Array, got ${typeof bytes}`, details) };
  }
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.length > max) {
    return { ok: false, error: new DecodeError('MESSAGE_TOO_LARGE', `${bytes.length} bytes exceeds the ${max}-byte limit`, details) };
  }
  const ctx: DecodeContext = {
    format,
    workerId: options.workerId,
    dpRank: options.dpRank,
    hasher: options.hasher,
    loraHasher: options.loraHasher,
    trtllmLoraName: options.trtllmLoraName,
    engineBlockSize: options.engineBlockSize,
    sawEngineBlockSize: false,
    ignored: undefined,
    skippedIds: undefined,
  };
  try {
    let events: KvEvent[];
    let timestampMs: number | undefined;
    switch (format) {
      case 'vllm': {
        const r = options.referenceDecoder ? decodeVllmBatch(ctx, unpackOne(bytes)) : decodeVllmBytes(ctx, bytes);
        events = r.events;
        timestampMs = r.timestampMs;
        break;
      }
      case 'dynamo-msgpack':
        events = decodeDynamoMessage(ctx, unpackOne(bytes));
        break;
      case 'dynamo-json':
        events = decodeDynamoMessage(ctx, parseJson(bytes));
        break;
      case 'trtllm':
        events = decodeTrtllmMessage(ctx, parseJson(bytes));
        break;
    }
    const result: DecodeSuccess = { ok: true, events, ignored: ctx.ignored ?? NO_IGNORED };
    if (timestampMs !== undefined) result.timestampMs = timestampMs;
    if (ctx.sawEngineBlockSize && ctx.engineBlockSize !== undefined) result.engineBlockSize = ctx.engineBlockSize;
    if (ctx.skippedIds !== undefined) result.skippedIds = ctx.skippedIds;
    return result;
  } catch (e) {
    return { ok: false, error: toDecodeError(e, details) };
  }
}

/** @internal Byte offset carried from the JSON parser to the error. */
class JsonAbort extends DecodeAbort {
  constructor(
    message: string,
    readonly byteOffset: number,
  ) {
    super('MALFORMED', message);
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return parseExactJson(bytes);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      const prefix = new TextDecoder().decode(bytes).slice(0, e.offset);
      throw new JsonAbort(`invalid JSON: ${e.message}`, Buffer.byteLength(prefix, 'utf8'));
    }
    throw e;
  }
}

/** @internal Any failure inside a decoder, as a DecodeError. */
export function toDecodeError(e: unknown, details: { format: DecodeError['format']; workerId?: string | undefined; dpRank?: number | undefined }): DecodeError {
  const base = { format: details.format, workerId: details.workerId, dpRank: details.dpRank };
  if (e instanceof JsonAbort || e instanceof ReaderAbort) return new DecodeError(e.reason, e.message, { ...base, byteOffset: e.byteOffset });
  if (e instanceof DecodeAbort) {
    return new DecodeError(e.reason, e.message, e.loraName === undefined ? base : { ...base, loraName: e.loraName });
  }
  // A RangeError from deep recursion, a hasher rejecting input, or a bug: never let it escape.
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new DecodeError('INTERNAL', message, base);
}
