export type * from './types.js';
export { decodeEvents, DEFAULT_MAX_MESSAGE_BYTES, type DecodeOptions } from './decode.js';
export {
  DecodeError,
  DECODE_ERROR_CODES,
  type DecodeErrorCode,
  type DecodeErrorDetails,
  type DecodeFailure,
  type DecodeResult,
  type DecodeSuccess,
  type IgnoreReason,
  type IgnoredCounts,
  type SkippedEventId,
} from './errors.js';
export {
  decodeMetrics,
  encodeMetrics,
  type DecodeMetricsOptions,
  type EncodeMetricsOptions,
  type MetricsResult,
  type MetricsSuccess,
} from './metrics.js';
export {
  encodeDynamoEvent,
  encodeTrtllmEvents,
  encodeVllmBatch,
  type DynamoEncoding,
  type EncodeVllmOptions,
  type TrtllmEngineEvent,
  type VllmAllBlocksCleared,
  type VllmBlockRemoved,
  type VllmBlockStored,
  type VllmEngineEvent,
} from './encode.js';
export {
  createIngestor,
  type IngestCounters,
  type IngestResult,
  type Ingestor,
  type IngestorOptions,
  type RejectReason,
  type ResyncNotice,
  type ResyncReason,
  type WorkerIngestCounters,
} from './ingestor.js';
export { KvEventSchema, LoadMetricsSchema, U64Schema } from './schemas.js';
export { parseExactJsonText, stringifyExactJson, type ExactJson } from './exact-json.js';
export { subBlockHash } from './u64.js';
export { mediumToTier } from './tiers.js';
export * from './transports.js';
