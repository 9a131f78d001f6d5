import type { MessageMeta, MetricsFormat } from './types.js';

/** A worker cache whose state was reset and must be sent again in full. */
export interface ResyncRequest {
  /** Worker whose state is wanted. */
  workerId: string;
  /** Data-parallel rank; absent means rank 0. */
  dpRank?: number;
}

/** What a transport knows about one received metrics message. */
export interface MetricsMeta {
  /** Wire format of the payload. */
  format: MetricsFormat;
  /** Worker the metrics are from, when the transport knows it. */
  workerId?: string;
  /** Data-parallel rank, when the transport knows it. */
  dpRank?: number;
}

/**
 * The part of an ingestor the transports call. An `Ingestor` from `createIngestor` satisfies it;
 * so does any object with an `ingest` method (handy in tests).
 *
 * Transports never throw into the caller because of a message: a sink that throws is counted
 * (`sinkErrors`) and the transport keeps running.
 */
export interface MessageSink {
  /** Decode and apply one message of KV events. */
  ingest(bytes: Uint8Array, meta: MessageMeta): unknown;
  /** Decode and apply one message of load metrics; transports skip metrics subjects without it. */
  ingestMetrics?(bytes: Uint8Array, meta: MetricsMeta): unknown;
  /**
   * Messages may have been lost (a reconnect on a transport without replay): reset the affected
   * workers (all when `workerId` is absent) and ask for resyncs.
   */
  noteTransportGap?(workerId?: string): void;
  /** Register a callback fired when a worker needs a full resync; may return an unsubscribe function. */
  onResync?(callback: (request: ResyncRequest) => void): unknown;
}
