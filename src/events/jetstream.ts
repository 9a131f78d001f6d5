import {
  AckPolicy,
  ConsumerEvents,
  DeliverPolicy,
  Events,
  nanos,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import type { EventFormat } from './types.js';
import type { MessageSink } from './transport-types.js';
import { backoffDelay, sleep } from './transport-backoff.js';
import { holdConnection, releaseConnection, type HeldConnection, type NatsConnectionOptions } from './transport-connection.js';
import { checkSink, resolveSubjects, workerRoute, type NatsSubjectOptions, type WorkerIdSource } from './nats.js';
import { describe } from './transport-subjects.js';

/** Options of {@link subscribeJetStream}. */
export interface SubscribeJetStreamOptions extends NatsConnectionOptions, Omit<NatsSubjectOptions, 'metricsSubject' | 'resyncSubject'> {
  /** Wire format of the KV event payloads. */
  format: EventFormat;
  /** Where worker ids come from (see {@link WorkerIdSource}). Default `'payload'`. */
  workerIdFrom?: WorkerIdSource;
  /**
   * Durable consumer name. It belongs to this subscriber: one per router replica (each replica needs
   * every event), kept across restarts so a restarted router resumes where it stopped.
   */
  durable: string;
  /** Stream name. Default `KVROUTER_<namespace>_<component>` (or `KVROUTER_EVENTS` without them). */
  stream?: string;
  /** Create the stream when missing (file storage, over the events subject). Default `true`. */
  createStream?: boolean;
  /** Extra stream settings used when creating it (limits, replicas, …). */
  streamConfig?: Partial<StreamConfig>;
  /**
   * Skip stream sequences up to and including this one (the sequence saved with an index snapshot,
   * see {@link JetStreamSubscription.lastSequence}). Default: resume after the consumer's ack floor.
   */
  resumeAfter?: bigint;
  /** Messages pulled per request. Default 1000. */
  batch?: number;
  /** Acknowledge after this many applied messages (one ack covers all before it). Default 500. */
  ackEvery?: number;
  /** Also acknowledge at least this often, in ms. Default 100. */
  ackIntervalMs?: number;
}

/** Counters of a JetStream subscription. */
export interface JetStreamSubscriptionCounters {
  /** Messages handed to the sink. */
  messages: number;
  /** Redelivered messages skipped (already applied). */
  duplicates: number;
  /** Messages whose worker id could not be taken from the subject (skipped). */
  noWorker: number;
  /** Times the sink threw (message skipped, subscription keeps running). */
  sinkErrors: number;
  /** Stream sequences that were gone when asked for (deleted by stream limits): reported as a transport gap. */
  lostSequences: number;
  /** Transport gaps reported to the sink. */
  gaps: number;
  /** Consumer (re)starts: the first start, then one after each reconnect or out-of-order delivery. */
  starts: number;
  /** Connection losses. */
  disconnects: number;
  /** Errors while setting up or consuming (each followed by a retry with backoff). */
  errors: number;
}

/** A running JetStream subscription from {@link subscribeJetStream}. */
export interface JetStreamSubscription {
  /** Stream name. */
  readonly stream: string;
  /** Durable consumer name. */
  readonly durable: string;
  /** The connection in use. */
  readonly connection: NatsConnection;
  /** Stream sequence of the last message handed to the sink (0 before any). */
  lastSequence(): bigint;
  /** A copy of the counters. */
  counters(): JetStreamSubscriptionCounters;
  /** The last setup or consume error, if any (retries continue). */
  lastError(): Error | undefined;
  /** Resolves once the consumer is set up and pulling (after the first start). */
  ready(): Promise<void>;
  /**
   * Stops: acknowledges everything applied, flushes, and closes the connection when the subscription
   * opened it. The durable consumer stays on the server for the next start.
   */
  close(): Promise<void>;
}

/**
 * Consumes KV events from a JetStream stream with a durable pull consumer, in stream order and
 * without loss.
 *
 * Every message goes to the sink with `transport: 'jetstream'` and, on a shared subject, its stream
 * sequence in `meta.seq` (per-worker subjects omit it: one stream sequence spans every worker)
 * and is acknowledged after the sink returned (acks are batched: `AckPolicy.All`). The subscription
 * keeps the sequence of the last applied message; whenever delivery could have broken order (a
 * reconnect, a server restart, an out-of-order sequence) it recreates the durable consumer to start
 * exactly after that sequence, so no message is skipped and none is applied twice. A restarted
 * process (new connection, same durable) starts after the consumer's ack floor, or after
 * `resumeAfter`. Sequences the stream no longer holds are reported to the sink as a transport gap.
 */
export async function subscribeJetStream(sink: MessageSink, options: SubscribeJetStreamOptions): Promise<JetStreamSubscription> {
  checkSink(sink, 'subscribeJetStream');
  if (options === null || typeof options !== 'object') throw new TypeError(`subscribeJetStream: expected an options object, got ${describe(options)}`);
  if (typeof options.durable !== 'string' || !/^[A-Za-z0-9_-]+$/.test(options.durable)) {
    throw new TypeError(`subscribeJetStream: durable must be a name of letters, digits, '_' or '-', got ${describe(options.durable)}`);
  }
  const stream = options.stream ?? defaultStreamName(options.namespace, options.component);
  if (!/^[A-Za-z0-9_-]+$/.test(stream)) throw new TypeError(`subscribeJetStream: stream must be a name of letters, digits, '_' or '-', got ${describe(stream)}`);
  for (const key of ['batch', 'ackEvery', 'ackIntervalMs'] as const) {
    const v = options[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`subscribeJetStream: ${key} must be a positive integer, got ${describe(v)}`);
  }
  if (options.resumeAfter !== undefined && (typeof options.resumeAfter !== 'bigint' || options.resumeAfter < 0n)) {
    throw new TypeError(`subscribeJetStream: resumeAfter must be a non-negative bigint, got ${describe(options.resumeAfter)}`);
  }
  const subjects = resolveSubjects({ ...options, metricsSubject: false, resyncSubject: false }, 'subscribeJetStream');
  const route = workerRoute(subjects.events, options.workerIdFrom ?? 'payload');
  const held = await holdConnection(options, 'subscribeJetStream');
  const subscriber = new JetStreamSubscriber(sink, options, held, stream, subjects.events, route);
  subscriber.start();
  return subscriber;
}

/** Default stream name of a namespace and component. */
export function defaultStreamName(namespace?: string, component?: string): string {
  if (namespace === undefined || component === undefined) return 'KVROUTER_EVENTS';
  return `KVROUTER_${namespace}_${component}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

function apiErrorCode(error: unknown): number | undefined {
  const api = (error as { api_error?: { err_code?: number } } | null)?.api_error;
  return api?.err_code;
}

class JetStreamSubscriber implements JetStreamSubscription {
  readonly connection: NatsConnection;
  private readonly counts: JetStreamSubscriptionCounters = {
    messages: 0, duplicates: 0, noWorker: 0, sinkErrors: 0, lostSequences: 0, gaps: 0, starts: 0, disconnects: 0, errors: 0,
  };
  private readonly abort = new AbortController();
  private lastApplied: number;
  private lastAcked = 0;
  private unacked: JsMsg | undefined;
  private sinceAck = 0;
  private iterator: ConsumerMessages | undefined;
  private error: Error | undefined;
  private readyResolve!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => (this.readyResolve = resolve));
  private running: Promise<void> | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly sink: MessageSink,
    private readonly options: SubscribeJetStreamOptions,
    private readonly held: HeldConnection,
    readonly stream: string,
    private readonly eventsSubject: string,
    private readonly route: ReturnType<typeof workerRoute>,
  ) {
    this.connection = held.nc;
    // Stream sequences stay far below 2^53 in practice; kept as a number on the hot path.
    this.lastApplied = Number(options.resumeAfter ?? 0n);
  }

  get durable(): string {
    return this.options.durable;
  }

  lastSequence(): bigint {
    return BigInt(this.lastApplied);
  }

  counters(): JetStreamSubscriptionCounters {
    return { ...this.counts };
  }

  lastError(): Error | undefined {
    return this.error;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  start(): void {
    this.running = this.run();
    void this.watchStatus().catch(() => undefined);
    this.ackTimer = setInterval(() => this.ack(), this.options.ackIntervalMs ?? 100);
    this.ackTimer.unref();
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (this.abort.signal.aborted) break;
      if (status.type === Events.Disconnect) this.counts.disconnects++;
      // After a reconnect the server may redeliver in-flight messages out of order: restart exactly.
      if (status.type === Events.Reconnect) this.iterator?.stop();
    }
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      try {
        const jsm = await this.connection.jetstreamManager({ timeout: 5000 });
        const startAfter = await this.prepareConsumer(jsm);
        if (this.abort.signal.aborted) break;
        attempt = 0;
        await this.consume(startAfter);
      } catch (error) {
        if (this.abort.signal.aborted) break;
        this.counts.errors++;
        this.error = error instanceof Error ? error : new Error(String(error));
      }
      if (this.abort.signal.aborted) break;
      await sleep(backoffDelay(attempt++, { initialMs: 50, maxMs: 2000 }), this.abort.signal);
    }
  }

  /** Ensures the stream and a consumer that delivers from just after what was applied; returns that sequence. */
  private async prepareConsumer(jsm: JetStreamManager): Promise<number> {
    const { stream, durable } = this;
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      if (apiErrorCode(error) !== STREAM_NOT_FOUND || this.options.createStream === false) throw error;
      const subjects = this.route.subject === this.eventsSubject ? [this.eventsSubject] : [this.eventsSubject, this.route.subject];
      await jsm.streams.add({ storage: StorageType.File, ...this.options.streamConfig, name: stream, subjects });
    }
    let startAfter = this.lastApplied;
    let recreate = true;
    try {
      const info = await jsm.consumers.info(stream, durable);
      const ackFloor = info.ack_floor.stream_seq;
      startAfter = Math.max(startAfter, ackFloor);
      // Reusable as is only when nothing is in flight and its position is exactly ours.
      recreate =
        info.config.ack_policy !== AckPolicy.All ||
        info.num_ack_pending > 0 ||
        info.delivered.stream_seq !== startAfter ||
        ackFloor !== startAfter;
      if (recreate) await jsm.consumers.delete(stream, durable);
    } catch (error) {
      if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw error;
    }
    if (recreate) {
      const config: Partial<ConsumerConfig> = {
        durable_name: durable,
        ack_policy: AckPolicy.All,
        ack_wait: nanos(60_000),
        max_ack_pending: -1,
        ...(startAfter > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startAfter + 1 } : { deliver_policy: DeliverPolicy.All }),
      };
      await jsm.consumers.add(stream, config);
    }
    this.lastAcked = startAfter;
    this.lastApplied = startAfter;
    return startAfter;
  }

  private async consume(startAfter: number): Promise<void> {
    const js = this.connection.jetstream();
    const consumer = await js.consumers.get(this.stream, this.durable);
    const iterator = await consumer.consume({ max_messages: this.options.batch ?? 1000 });
    this.iterator = iterator;
    this.counts.starts++;
    void this.watchConsumer(iterator);
    this.readyResolve();
    if (this.abort.signal.aborted) iterator.stop();
    const ackEvery = this.options.ackEvery ?? 500;
    const { format } = this.options;
    const payloadWorker = (this.options.workerIdFrom ?? 'payload') === 'payload';
    let first = true;
    try {
      for await (const msg of iterator) {
        const seq = msg.seq;
        if (seq <= this.lastApplied) {
          this.counts.duplicates++;
          continue;
        }
        if (seq !== this.lastApplied + 1) {
          if (!first) break; // out of order (a redelivery raced new messages): restart exactly after lastApplied
          // The consumer was created to start at lastApplied + 1: what lies before `seq` is gone from the stream.
          this.counts.lostSequences += seq - this.lastApplied - 1;
          this.counts.gaps++;
          try {
            this.sink.noteTransportGap?.();
          } catch {
            this.counts.sinkErrors++;
          }
        }
        first = false;
        const workerId = this.route.workerOf(msg.subject);
        if (workerId === undefined && !payloadWorker) this.counts.noWorker++;
        else {
          this.counts.messages++;
          try {
            // The stream sequence is shared by every worker on the stream, so it is passed only when
            // the payload names the worker (then the ingestor does not track it per worker); order
            // and exactly-once are guaranteed here.
            this.sink.ingest(msg.data, workerId === undefined
              ? { format, seq: BigInt(seq), transport: 'jetstream' }
              : { format, workerId, transport: 'jetstream' });
          } catch {
            this.counts.sinkErrors++;
          }
        }
        this.lastApplied = seq;
        this.unacked = msg;
        if (++this.sinceAck >= ackEvery) this.ack();
      }
    } finally {
      this.iterator = undefined;
      this.ack();
      iterator.stop();
    }
    void startAfter;
  }

  /** Stops consuming when the consumer or stream went away or the server went quiet: `run` sets up again. */
  private async watchConsumer(iterator: ConsumerMessages): Promise<void> {
    try {
      for await (const status of await iterator.status()) {
        const missed = status.type === ConsumerEvents.HeartbeatsMissed && typeof status.data === 'number' && status.data >= 2;
        if (missed || status.type === ConsumerEvents.ConsumerDeleted || status.type === ConsumerEvents.ConsumerNotFound || status.type === ConsumerEvents.StreamNotFound) {
          iterator.stop();
          break;
        }
      }
    } catch {
      /* iterator closed */
    }
  }

  private ack(): void {
    const msg = this.unacked;
    if (!msg || this.connection.isClosed()) return;
    this.unacked = undefined;
    this.sinceAck = 0;
    if (msg.seq <= this.lastAcked) return;
    this.lastAcked = msg.seq;
    try {
      msg.ack();
    } catch {
      /* disconnected: the next start positions the consumer from lastApplied anyway */
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.abort.abort();
    if (this.ackTimer) clearInterval(this.ackTimer);
    this.iterator?.stop();
    await this.running;
    this.ack();
    this.readyResolve();
    if (!this.connection.isClosed()) await this.connection.flush().catch(() => undefined);
    await releaseConnection(this.held);
  }
}
