/**
 * Transports: NATS (core and JetStream) and ZeroMQ, delivering raw messages to an ingestor.
 * @module
 */
export type { MessageSink, MetricsMeta, ResyncRequest } from './transport-types.js';
export { backoffDelay, type BackoffOptions } from './transport-backoff.js';
export { defaultNatsSubjects, workerIdFromSubject, workerSubject, type NatsSubjects } from './transport-subjects.js';
export {
  createNatsPublisher,
  RESYNC_ERROR_HEADER,
  serveResync,
  subscribeNats,
  type NatsConnectionOptions,
  type NatsPublisher,
  type NatsPublisherOptions,
  type NatsSubjectOptions,
  type NatsSubscription,
  type NatsSubscriptionCounters,
  type PublishOptions,
  type ResolvedSubjects,
  type ResyncDump,
  type ResyncResponder,
  type SubscribeNatsOptions,
  type WorkerIdSource,
} from './nats.js';
export {
  defaultStreamName,
  subscribeJetStream,
  type JetStreamSubscription,
  type JetStreamSubscriptionCounters,
  type SubscribeJetStreamOptions,
} from './jetstream.js';
export {
  createZmqEnginePublisher,
  subscribeZmq,
  ZMQ_REPLAY_END,
  type SubscribeZmqOptions,
  type ZmqEnginePublisher,
  type ZmqEnginePublisherOptions,
  type ZmqSubscription,
  type ZmqSubscriptionCounters,
} from './zmq.js';
