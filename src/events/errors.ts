import type { KvEvent } from '../radix/types.js';
import type { EventFormat, MetricsFormat } from './types.js';

/**
 * Why a message could not be decoded. The whole message is rejected; nothing of it is applied.
 *
 * - `MESSAGE_TOO_LARGE`: longer than `maxMessageBytes` (checked before decoding).
 * - `MALFORMED`: not valid MessagePack / JSON (truncated, trailing bytes, bad syntax).
 * - `BAD_SHAPE`: valid syntax but wrong structure or field types.
 * - `BAD_HASH`: a hash that is not a u64 (out of range, negative where unsigned, a byte string
 *   that is not 32 bytes long, a float).
 * - `BLOCK_SIZE_MISMATCH`: the engine's block size is not the router's (nor a whole multiple of it).
 * - `TOKEN_COUNT_MISMATCH`: `token_ids` is not blocks × block size long.
 * - `UNKNOWN_MEDIUM`: a vLLM `medium` / Dynamo `storage_tier` this library cannot place in a tier.
 * - `UNKNOWN_LORA`: blocks of a LoRA adapter for which no hasher is available (tokens hashes
 *   fold the adapter name into the seed, so they cannot be computed).
 * - `MISSING_WORKER`: neither the payload nor the options name the worker.
 * - `INTERNAL`: a bug in this library (reported, never thrown).
 */
export type DecodeErrorCode =
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED'
  | 'BAD_SHAPE'
  | 'BAD_HASH'
  | 'BLOCK_SIZE_MISMATCH'
  | 'TOKEN_COUNT_MISMATCH'
  | 'UNKNOWN_MEDIUM'
  | 'UNKNOWN_LORA'
  | 'MISSING_WORKER'
  | 'INTERNAL';

/** Every {@link DecodeErrorCode}. */
export const DECODE_ERROR_CODES: readonly DecodeErrorCode[] = [
  'MESSAGE_TOO_LARGE',
  'MALFORMED',
  'BAD_SHAPE',
  'BAD_HASH',
  'BLOCK_SIZE_MISMATCH',
  'TOKEN_COUNT_MISMATCH',
  'UNKNOWN_MEDIUM',
  'UNKNOWN_LORA',
  'MISSING_WORKER',
  'INTERNAL',
];

/** Fields of a {@link DecodeError} besides its message. */
export interface DecodeErrorDetails {
  /** Wire format that was being decoded. */
  format: EventFormat | MetricsFormat;
  /** Worker the message is from, when known. */
  workerId?: string;
  /** Data-parallel rank, when known. */
  dpRank?: number;
  /** Byte offset of the problem in the message, when known. */
  byteOffset?: number;
  /** The LoRA adapter name of an `UNKNOWN_LORA` error. */
  loraName?: string;
}

/**
 * A message that could not be decoded. Decoders *return* it (`{ ok: false, error }`); they never
 * throw on any input.
 */
export class DecodeError extends Error {
  /** Why; see {@link DecodeErrorCode}. */
  readonly reason: DecodeErrorCode;
  /** Wire format that was being decoded. */
  readonly format: EventFormat | MetricsFormat;
  /** Worker the message is from, when known. */
  readonly workerId: string | undefined;
  /** Data-parallel rank, when known. */
  readonly dpRank: number | undefined;
  /** Byte offset of the problem in the message, when known. */
  readonly byteOffset: number | undefined;
  /** The LoRA adapter name of an `UNKNOWN_LORA` error. */
  readonly loraName: string | undefined;

  constructor(reason: DecodeErrorCode, message: string, details: DecodeErrorDetails) {
    // A decode error describes data, not code: skip the stack capture (costly under floods of garbage).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${details.format}: ${reason}: ${message}`);
    Error.stackTraceLimit = limit;
    this.name = 'DecodeError';
    this.reason = reason;
    this.format = details.format;
    this.workerId = details.workerId;
    this.dpRank = details.dpRank;
    this.byteOffset = details.byteOffset;
    this.loraName = details.loraName;
  }
}

/**
 * Why a well-formed event was skipped rather than applied (counted, never an error).
 *
 * - `OTHER_KV_GROUP`: vLLM event of a KV-cache group other than 0.
 * - `NOT_FULL_ATTENTION`: vLLM event of a sliding-window / mamba / other non-full-attention spec.
 * - `REMOTE_LOCALITY`: vLLM event about blocks that are not local to the publisher.
 * - `UNKNOWN_EVENT_TYPE`: an event type this library does not know (newer engines add some).
 * - `SHARED_TIER`: Dynamo `external` storage tier or a cache-owner residency (not this worker's cache).
 * - `IGNORED_TYPE`: TensorRT-LLM `created` / `updated` events.
 */
export type IgnoreReason =
  | 'OTHER_KV_GROUP'
  | 'NOT_FULL_ATTENTION'
  | 'REMOTE_LOCALITY'
  | 'UNKNOWN_EVENT_TYPE'
  | 'SHARED_TIER'
  | 'IGNORED_TYPE';

/** Number of skipped events by reason. */
export type IgnoredCounts = Partial<Record<IgnoreReason, number>>;

/**
 * The id of an event that was skipped (see {@link IgnoreReason}): event-id tracking must still count
 * it, or the next id would look like a gap.
 */
export interface SkippedEventId {
  workerId: string;
  dpRank: number;
  eventId: number;
  /** Index in `events` the skipped event stood before (events.length when it was last). */
  before: number;
}

/** A decoded message. */
export interface DecodeSuccess {
  ok: true;
  /** Normalized events, in wire order. */
  events: KvEvent[];
  /** Events skipped, by reason (an empty object when none). */
  ignored: IgnoredCounts;
  /** Engine timestamp of the batch in milliseconds since the epoch, when the payload has one. */
  timestampMs?: number;
  /** Engine block size of the message's last stored event, when it carries one (for later removals). */
  engineBlockSize?: number;
  /** Ids of skipped events that carried one (Dynamo, TensorRT-LLM), in order. */
  skippedIds?: SkippedEventId[];
}

/** A message that could not be decoded. */
export interface DecodeFailure {
  ok: false;
  error: DecodeError;
}

/** Result of `decodeEvents`. */
export type DecodeResult = DecodeSuccess | DecodeFailure;

/** @internal Thrown inside decoders, turned into a {@link DecodeFailure} at the entry point. */
export class DecodeAbort {
  constructor(
    readonly reason: DecodeErrorCode,
    readonly message: string,
    readonly loraName?: string,
  ) {}
}

/** @internal */
export function abort(reason: DecodeErrorCode, message: string, loraName?: string): never {
  throw new DecodeAbort(reason, message, loraName);
}
