import type { ApplyResult, KvEvent } from '../radix/types.js';

/**
 * Wire formats of KV events.
 *
 * - `vllm`: vLLM / SGLang msgpack batch (the third ZMQ frame, or a NATS payload).
 * - `dynamo-json`: NVIDIA Dynamo `RouterEvent` as JSON (older Dynamo, NATS `…kv_events`).
 * - `dynamo-msgpack`: NVIDIA Dynamo `RouterEvent` as MessagePack, named or positional (newer Dynamo).
 * - `trtllm`: TensorRT-LLM JSON KV cache events.
 */
export type EventFormat = 'vllm' | 'dynamo-json' | 'dynamo-msgpack' | 'trtllm';

/** Wire formats of pushed load metrics: Dynamo `ForwardPassMetrics` JSON, or `ActiveLoad`. */
export type MetricsFormat = 'dynamo-fpm' | 'dynamo-active-load';

/**
 * Load a worker pushes (Dynamo's metric names in camelCase). Every field is optional: a worker
 * reports what its engine knows.
 */
export interface LoadMetrics {
  /** Requests running now. */
  requestActiveSlots?: number;
  /** Request slots in all. */
  requestTotalSlots?: number;
  /** Requests queued, not yet running. */
  numRequestsWaiting?: number;
  /** KV blocks in use. */
  kvActiveBlocks?: number;
  /** KV blocks in all. */
  kvTotalBlocks?: number;
  /** Fraction of the GPU KV cache in use, in [0, 1]. */
  gpuCacheUsagePerc?: number;
  /** Prefix cache hit rate, in [0, 1]. */
  gpuPrefixCacheHitRate?: number;
  /** Data-parallel rank these metrics describe. */
  dataParallelRank?: number;
  /** Blocks held by requests in decode (newer Dynamo). */
  activeDecodeBlocks?: number;
  /** Prompt tokens still to prefill (newer Dynamo). */
  activePrefillTokens?: number;
}

/**
 * Where ingestion delivers normalized events: a `RadixIndex` (`apply`) or a router (`applyEvent`,
 * and `updateLoad` for metrics).
 */
export type IngestTarget =
  | { apply(event: KvEvent): ApplyResult }
  | {
      applyEvent(event: KvEvent): ApplyResult;
      updateLoad?(workerId: string, dpRank: number, metrics: LoadMetrics): void;
    };

/** What a transport knows about one received message. */
export interface MessageMeta {
  /** Wire format of the payload. */
  format: EventFormat;
  /** Worker the message is from when the transport knows it (subject token, ZMQ endpoint); payloads may override. */
  workerId?: string;
  /** Data-parallel rank when the transport knows it. */
  dpRank?: number;
  /** Transport sequence number (ZMQ frame 2, JetStream stream sequence), for gap detection. */
  seq?: bigint;
  /** Transport name for counters and logs, e.g. `nats`, `jetstream`, `zmq`, `inproc`. */
  transport?: string;
  /**
   * The payload answers a resync (a ZMQ replay, a dump): applied without sequence or event-id
   * checks, and without updating the tracked sequence.
   */
  replay?: boolean;
}
