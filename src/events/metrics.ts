/**
 * Load metrics workers push (Dynamo names, DESIGN §5), JSON (exact) or MessagePack:
 *
 * - `dynamo-fpm`: `ForwardPassMetrics` `{worker_stats: {data_parallel_rank, request_active_slots,
 *   request_total_slots, num_requests_waiting}, kv_stats: {kv_active_blocks, kv_total_blocks,
 *   gpu_cache_usage_perc, gpu_prefix_cache_hit_rate}}`, or the same fields flat; optionally wrapped
 *   as `{worker_id, dp_rank?, data | metrics | engine_load_metrics: …}`; newer fields
 *   `active_decode_blocks`, `active_prefill_tokens` anywhere among them.
 * - `dynamo-active-load`: `ActiveLoad {worker_id, dp_rank, active_decode_blocks?,
 *   active_prefill_tokens?, kv_used_blocks?}` (`kv_used_blocks` is `kvActiveBlocks`).
 */
import { abort, type DecodeError } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, toDecodeError } from './decode.js';
import { parseExactJson, stringifyExactJson } from './exact-json.js';
import { unpackOne } from './msgpack.js';
import { LoadMetricsSchema } from './schemas.js';
import type { LoadMetrics, MetricsFormat } from './types.js';
import { toSafeUint, unsignedToDecimal } from './u64.js';

/** Options of {@link decodeMetrics}. */
export interface DecodeMetricsOptions {
  /** Wire format. */
  format: MetricsFormat;
  /** Worker when the transport knows it; a `worker_id` in the payload takes precedence. */
  workerId?: string;
  /** Rank when the transport knows it; a rank in the payload takes precedence. */
  dpRank?: number;
  /** Messages longer than this are rejected before decoding. Default 16 MiB. */
  maxMessageBytes?: number;
}

/** A decoded metrics message. */
export interface MetricsSuccess {
  ok: true;
  /** The metrics, validated (counts finite and non-negative, fractions in [0, 1]). */
  metrics: LoadMetrics;
  /** Worker, from the payload or the options. */
  workerId?: string;
  /** Rank, from the payload or the options. */
  dpRank?: number;
}

/** Result of {@link decodeMetrics}. */
export type MetricsResult = MetricsSuccess | { ok: false; error: DecodeError };

const FIELDS: ReadonlyArray<readonly [string, keyof LoadMetrics]> = [
  ['request_active_slots', 'requestActiveSlots'],
  ['request_total_slots', 'requestTotalSlots'],
  ['num_requests_waiting', 'numRequestsWaiting'],
  ['kv_active_blocks', 'kvActiveBlocks'],
  ['kv_used_blocks', 'kvActiveBlocks'],
  ['kv_total_blocks', 'kvTotalBlocks'],
  ['gpu_cache_usage_perc', 'gpuCacheUsagePerc'],
  ['gpu_prefix_cache_hit_rate', 'gpuPrefixCacheHitRate'],
  ['data_parallel_rank', 'dataParallelRank'],
  ['active_decode_blocks', 'activeDecodeBlocks'],
  ['active_prefill_tokens', 'activePrefillTokens'],
];

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** Copies the known fields of `src` into `out` (numbers, or bigints converted). */
function collect(src: Record<string, unknown>, out: Record<string, unknown>): void {
  for (const [wire, name] of FIELDS) {
    const v = own(src, wire);
    if (v === undefined || v === null) continue;
    out[name] = typeof v === 'bigint' ? Number(v) : v;
  }
}

/**
 * Decodes one pushed load-metrics message (JSON when it starts with `{`, else MessagePack).
 * Never throws on any payload; invalid values (negative counts, fractions outside [0, 1],
 * non-numbers) are a `BAD_SHAPE` {@link DecodeError}.
 */
export function decodeMetrics(bytes: Uint8Array, options: DecodeMetricsOptions): MetricsResult {
  if (typeof options !== 'object' || options === null) throw new TypeError('decodeMetrics options must be an object');
  const { format } = options;
  if (format !== 'dynamo-fpm' && format !== 'dynamo-active-load') {
    throw new TypeError(`format must be 'dynamo-fpm' | 'dynamo-active-load', got ${String(format)}`);
  }
  const details = { format, workerId: options.workerId, dpRank: options.dpRank };
  try {
    if (!(bytes instanceof Uint8Array)) abort('BAD_SHAPE', 'payload must be a Uint8Array');
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (bytes.length > max) abort('MESSAGE_TOO_LARGE', `${bytes.length} bytes exceeds the ${max}-byte limit`);
    let i = 0;
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
    let root: unknown;
    if (bytes[i] === 0x7b) {
      try {
        root = parseExactJson(bytes);
      } catch (e) {
        abort('MALFORMED', `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      root = unpackOne(bytes);
    }
    if (!isMap(root)) return abort('BAD_SHAPE', 'metrics payload is not an object');
    let workerId = options.workerId;
    let dpRank = options.dpRank;
    const wid = own(root, 'worker_id');
    if (wid !== undefined && wid !== null) workerId = unsignedToDecimal(wid, 'worker_id');
    const rank = own(root, 'dp_rank');
    if (rank !== undefined && rank !== null) dpRank = toSafeUint(rank, 'dp_rank');

    const raw: Record<string, unknown> = {};
    if (format === 'dynamo-active-load') {
      collect(root, raw);
    } else {
      let body: Record<string, unknown> = root;
      for (const key of ['data', 'metrics', 'engine_load_metrics', 'EngineLoadMetrics']) {
        const inner = own(body, key);
        if (isMap(inner)) {
          body = inner;
          const nested = own(body, 'engine_load_metrics') ?? own(body, 'EngineLoadMetrics');
          if (isMap(nested)) body = nested;
          break;
        }
      }
      collect(body, raw);
      for (const key of ['worker_stats', 'kv_stats']) {
        const inner = own(body, key);
        if (isMap(inner)) collect(inner, raw);
      }
      if (raw.dataParallelRank !== undefined && dpRank === undefined) dpRank = toSafeUint(raw.dataParallelRank, 'data_parallel_rank');
    }
    const parsed = LoadMetricsSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return abort('BAD_SHAPE', `invalid metrics: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'rejected'}`);
    }
    const out: MetricsSuccess = { ok: true, metrics: parsed.data as LoadMetrics };
    if (workerId !== undefined) out.workerId = workerId;
    if (dpRank !== undefined) out.dpRank = dpRank;
    return out;
  } catch (e) {
    return { ok: false, error: toDecodeError(e, details) };
  }
}

/** Options of {@link encodeMetrics}. */
export interface EncodeMetricsOptions {
  /** Wire format. */
  format: MetricsFormat;
  /** Worker id written as `worker_id` (an exact integer when decimal). */
  workerId?: string;
  /** Rank written as `dp_rank` / `data_parallel_rank`. */
  dpRank?: number;
}

function idValue(workerId: string): bigint | string {
  return /^(0|[1-9][0-9]{0,19})$/.test(workerId) && BigInt(workerId) < 1n << 64n ? BigInt(workerId) : workerId;
}

/**
 * Writes load metrics as a worker publishes them (JSON bytes); the inverse of {@link decodeMetrics}.
 * Throws `TypeError` on metrics that fail validation.
 */
export function encodeMetrics(metrics: LoadMetrics, options: EncodeMetricsOptions): Uint8Array {
  const parsed = LoadMetricsSchema.safeParse(metrics);
  if (!parsed.success) throw new TypeError(`invalid metrics: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  const m = metrics;
  const dpRank = options.dpRank ?? m.dataParallelRank;
  let doc: Record<string, unknown>;
  if (options.format === 'dynamo-active-load') {
    doc = {
      worker_id: options.workerId === undefined ? undefined : idValue(options.workerId),
      dp_rank: dpRank ?? 0,
      active_decode_blocks: m.activeDecodeBlocks,
      active_prefill_tokens: m.activePrefillTokens,
      kv_used_blocks: m.kvActiveBlocks,
    };
  } else if (options.format === 'dynamo-fpm') {
    doc = {
      worker_id: options.workerId === undefined ? undefined : idValue(options.workerId),
      worker_stats: {
        data_parallel_rank: dpRank,
        request_active_slots: m.requestActiveSlots,
        request_total_slots: m.requestTotalSlots,
        num_requests_waiting: m.numRequestsWaiting,
      },
      kv_stats: {
        kv_active_blocks: m.kvActiveBlocks,
        kv_total_blocks: m.kvTotalBlocks,
        gpu_cache_usage_perc: m.gpuCacheUsagePerc,
        gpu_prefix_cache_hit_rate: m.gpuPrefixCacheHitRate,
      },
      active_decode_blocks: m.activeDecodeBlocks,
      active_prefill_tokens: m.activePrefillTokens,
    };
  } else {
    throw new TypeError(`format must be 'dynamo-fpm' | 'dynamo-active-load', got ${String(options.format)}`);
  }
  return new TextEncoder().encode(stringifyExactJson(doc));
}
