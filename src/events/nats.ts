import {
  Events,
  headers as natsHeaders,
  JSONCodec,
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { KvEvent } from '../radix/types.js';
import { encodeDynamoEvent } from './encode.js';
import type { EventFormat, MetricsFormat } from './types.js';
import type { MessageSink, ResyncRequest } from './transport-types.js';
import { backoffDelay, sleep } from './transport-backoff.js';
import { holdConnection, releaseConnection, type HeldConnection, type NatsConnectionOptions } from './transport-connection.js';
import { checkSubject, defaultNatsSubjects, describe, workerIdFromSubject, workerSubject } from './transport-subjects.js';

export type { NatsConnectionOptions } from './transport-connection.js';

/**
 * Where the worker id of a NATS message comes from.
 * - `'payload'`: one shared subject; the payload names the worker (Dynamo `RouterEvent.worker_id`).
 * - `'subject'`: per-worker subjects `<base>.<workerId>` (see {@link defaultNatsSubjects}).
 * - a function: called with the full subject; the subscription is on the subject(s) given as is.
 */
export type WorkerIdSource = 'payload' | 'subject' | ((subject: string) => string | undefined);

/** Subjects, either from `namespace` + `component` or given outright. */
export interface NatsSubjectOptions {
  /** Dynamo-style namespace; with `component`, gives the default subjects. */
  namespace?: string;
  /** Dynamo-style component. */
  component?: string;
  /** KV events subject (base); overrides the default. */
  eventsSubject?: string;
  /** Load metrics subject (base); overrides the default. `false`: none. */
  metricsSubject?: string | false;
  /** Resync request subject; overrides the default. `false`: never ask for resyncs. */
  resyncSubject?: string | false;
}

/** Options of {@link subscribeNats}. */
export interface SubscribeNatsOptions extends NatsConnectionOptions, NatsSubjectOptions {
  /** Wire format of the KV event payloads. */
  format: EventFormat;
  /** Wire format of the metrics payloads. Default `'dynamo-fpm'`. */
  metricsFormat?: MetricsFormat;
  /** Where worker ids come from. Default `'payload'`. */
  workerIdFrom?: WorkerIdSource;
  /**
   * NATS queue group. Members of a group split the messages between them, so use it only when
   * several processes feed one shared index; router replicas that each keep an index must not.
   */
  queue?: string;
  /** How long one resync request may take, in ms. Default 5000. */
  resyncTimeoutMs?: number;
  /** Attempts per resync request (retried with backoff: responders may be reconnecting too). Default 5. */
  resyncAttempts?: number;
}

/** Counters of a NATS subscription. */
export interface NatsSubscriptionCounters {
  /** KV event messages handed to the sink. */
  messages: number;
  /** Metrics messages handed to the sink. */
  metrics: number;
  /** Messages whose worker id could not be taken from the subject (dropped). */
  noWorker: number;
  /** Times the sink threw (the message is dropped, the subscription keeps running). */
  sinkErrors: number;
  /** Connection losses. */
  disconnects: number;
  /** Reconnects; each is a possible loss of messages, reported to the sink as a transport gap. */
  reconnects: number;
  /** Transport gaps reported to the sink. */
  gaps: number;
  /** Resync requests sent. */
  resyncRequests: number;
  /** Resync dumps received complete and handed to the sink. */
  resyncsApplied: number;
  /** Resync requests that failed after every attempt (no responder, timeout, responder error). */
  resyncFailures: number;
}

/** A running NATS subscription from {@link subscribeNats}. */
export interface NatsSubscription {
  /** The subjects subscribed to (after wildcards for per-worker subjects). */
  readonly subjects: { events: string; metrics?: string; resync?: string };
  /** The connection in use. */
  readonly connection: NatsConnection;
  /** A copy of the counters. */
  counters(): NatsSubscriptionCounters;
  /** Ask `worker` for a full dump now and apply it; resolves `true` when applied. */
  resync(request: ResyncRequest): Promise<boolean>;
  /** Stops: drains the subscriptions and, when the transport opened the connection, closes it. */
  close(): Promise<void>;
}

/** Subjects after defaults: events and metrics bases (per-worker subjects append `.<workerId>`), resync. */
export interface ResolvedSubjects {
  /** KV events base subject. */
  events: string;
  /** Metrics base subject, if any. */
  metrics: string | undefined;
  /** Resync request subject, if any. */
  resync: string | undefined;
}

/** Resolves subject options to subjects, validating them. @internal */
export function resolveSubjects(options: NatsSubjectOptions, what: string): ResolvedSubjects {
  const defaults =
    options.namespace !== undefined || options.component !== undefined
      ? defaultNatsSubjects(options.namespace as string, options.component as string)
      : undefined;
  const events = options.eventsSubject ?? defaults?.events;
  if (events === undefined) {
    throw new TypeError(`${what}: expected \`namespace\` and \`component\`, or \`eventsSubject\``);
  }
  checkSubject(events, `${what}: eventsSubject`, true);
  const metrics = options.metricsSubject === false ? undefined : (options.metricsSubject ?? defaults?.metrics);
  if (metrics !== undefined) checkSubject(metrics, `${what}: metricsSubject`, true);
  const resync = options.resyncSubject === false ? undefined : (options.resyncSubject ?? defaults?.resync);
  if (resync !== undefined) checkSubject(resync, `${what}: resyncSubject`, false);
  return { events, metrics, resync };
}

/** Subscription subject and worker id extraction for one base subject. @internal */
export function workerRoute(base: string, source: WorkerIdSource): { subject: string; workerOf: (subject: string) => string | undefined } {
  if (source === 'payload') return { subject: base, workerOf: () => undefined };
  if (source === 'subject') {
    if (base.includes('*') || base.includes('>')) {
      throw new TypeError(`workerIdFrom 'subject': the base subject "${base}" must not contain wildcards (the subscriber adds '.>')`);
    }
    return { subject: `${base}.>`, workerOf: (subject) => workerIdFromSubject(subject, base) };
  }
  if (typeof source === 'function') return { subject: base, workerOf: source };
  throw new TypeError(`workerIdFrom: expected 'payload', 'subject' or a function, got ${describe(source)}`);
}

/**
 * Subscribes `sink` (an ingestor) to KV events and load metrics on NATS.
 *
 * Core NATS delivers at most once: a reconnect may have lost messages, so every reconnect is
 * reported to the sink with `noteTransportGap()` (which resets the workers and fires resyncs). The
 * subscription answers the sink's resync callbacks with a NATS request to the resync subject:
 * request `{"worker_id", "dp_rank"}` (JSON), reply a full dump of that worker as KV event messages in
 * `format`, streamed as several messages and ended by an empty one (see {@link serveResync}).
 * Use {@link subscribeJetStream} when no loss is acceptable.
 */
export async function subscribeNats(sink: MessageSink, options: SubscribeNatsOptions): Promise<NatsSubscription> {
  checkSink(sink, 'subscribeNats');
  if (options === null || typeof options !== 'object') throw new TypeError(`subscribeNats: expected an options object, got ${describe(options)}`);
  const subjects = resolveSubjects(options, 'subscribeNats');
  const eventsRoute = workerRoute(subjects.events, options.workerIdFrom ?? 'payload');
  const metricsRoute = subjects.metrics !== undefined && sink.ingestMetrics ? workerRoute(subjects.metrics, options.workerIdFrom ?? 'payload') : undefined;
  const held = await holdConnection(options, 'subscribeNats');
  return new NatsSubscriber(sink, options, held, eventsRoute, metricsRoute, subjects.resync);
}

class NatsSubscriber implements NatsSubscription {
  readonly subjects: { events: string; metrics?: string; resync?: string };
  readonly connection: NatsConnection;
  private readonly counts: NatsSubscriptionCounters = {
    messages: 0, metrics: 0, noWorker: 0, sinkErrors: 0, disconnects: 0, reconnects: 0, gaps: 0,
    resyncRequests: 0, resyncsApplied: 0, resyncFailures: 0,
  };
  private readonly subs: Subscription[] = [];
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private unsubscribeResync: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly sink: MessageSink,
    private readonly options: SubscribeNatsOptions,
    private readonly held: HeldConnection,
    eventsRoute: ReturnType<typeof workerRoute>,
    metricsRoute: ReturnType<typeof workerRoute> | undefined,
    private readonly resyncSubject: string | undefined,
  ) {
    const nc = held.nc;
    this.connection = nc;
    this.subjects = { events: eventsRoute.subject };
    const format = options.format;
    const queue = options.queue;
    this.subs.push(
      nc.subscribe(eventsRoute.subject, {
        ...(queue ? { queue } : {}),
        callback: (err, msg) => {
          if (err) return;
          const workerId = eventsRoute.workerOf(msg.subject);
          if (workerId === undefined && options.workerIdFrom !== undefined && options.workerIdFrom !== 'payload') {
            this.counts.noWorker++;
            return;
          }
          this.counts.messages++;
          try {
            sink.ingest(msg.data, workerId === undefined ? { format, transport: 'nats' } : { format, workerId, transport: 'nats' });
          } catch {
            this.counts.sinkErrors++;
          }
        },
      }),
    );
    if (metricsRoute && sink.ingestMetrics) {
      this.subjects.metrics = metricsRoute.subject;
      const metricsFormat = options.metricsFormat ?? 'dynamo-fpm';
      const ingestMetrics = sink.ingestMetrics.bind(sink);
      this.subs.push(
        nc.subscribe(metricsRoute.subject, {
          ...(queue ? { queue } : {}),
          callback: (err, msg) => {
            if (err) return;
            const workerId = metricsRoute.workerOf(msg.subject);
            this.counts.metrics++;
            try {
              ingestMetrics(msg.data, workerId === undefined ? { format: metricsFormat } : { format: metricsFormat, workerId });
            } catch {
              this.counts.sinkErrors++;
            }
          },
        }),
      );
    }
    if (resyncSubject !== undefined) {
      this.subjects.resync = resyncSubject;
      if (sink.onResync) {
        const off = sink.onResync((request) => {
          this.track(this.resync(request));
        });
        if (typeof off === 'function') this.unsubscribeResync = off as () => void;
      }
    }
    // Not tracked: the status iterator of a borrowed connection only ends when that connection closes.
    void this.watchStatus().catch(() => undefined);
  }

  counters(): NatsSubscriptionCounters {
    return { ...this.counts };
  }

  private track(promise: Promise<unknown>): void {
    const p = promise.catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (this.abort.signal.aborted) break;
      if (status.type === Events.Disconnect) this.counts.disconnects++;
      else if (status.type === Events.Reconnect) {
        this.counts.reconnects++;
        this.counts.gaps++;
        try {
          this.sink.noteTransportGap?.();
        } catch {
          this.counts.sinkErrors++;
        }
      }
    }
  }

  async resync(request: ResyncRequest): Promise<boolean> {
    const subject = this.resyncSubject;
    if (subject === undefined || this.abort.signal.aborted) return false;
    const attempts = this.options.resyncAttempts ?? 5;
    const meta = { format: this.options.format, workerId: request.workerId, dpRank: request.dpRank ?? 0, transport: 'nats-resync', replay: true };
    const apply = (chunk: Uint8Array): void => {
      try {
        this.sink.ingest(chunk, meta);
      } catch {
        this.counts.sinkErrors++;
      }
    };
    for (let attempt = 0; attempt < attempts && !this.abort.signal.aborted; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, { initialMs: 200, maxMs: 3000 }), this.abort.signal);
      if (this.abort.signal.aborted) break;
      this.counts.resyncRequests++;
      const outcome = await requestDump(this.connection, subject, request, this.options.resyncTimeoutMs ?? 5000, apply);
      if (outcome === 'complete') {
        this.counts.resyncsApplied++;
        return true;
      }
      if (outcome === 'partial') break; // chunks were applied; the next gap or restart asks again
    }
    this.counts.resyncFailures++;
    return false;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.abort.abort();
    this.unsubscribeResync?.();
    if (!this.connection.isClosed()) {
      await Promise.all(this.subs.map((s) => (s.isClosed() ? undefined : s.drain().catch(() => undefined))));
    }
    await releaseConnection(this.held);
    await Promise.all([...this.pending]);
  }
}

/**
 * Sends one resync request and applies each chunk of the answer synchronously as it arrives, so a
 * dump and the live events its responder publishes after it (on the same connection) reach the
 * sink in publish order. `'failed'` when nothing was applied (no responder, error, timeout),
 * `'partial'` when a timeout cut the dump short (stored events only add state: a partial dump is a
 * subset of the worker's state, never a wrong one).
 */
function requestDump(
  nc: NatsConnection,
  subject: string,
  request: ResyncRequest,
  timeoutMs: number,
  apply: (chunk: Uint8Array) => void,
): Promise<'complete' | 'partial' | 'failed'> {
  const body = JSONCodec<{ worker_id: string; dp_rank: number }>().encode({ worker_id: request.workerId, dp_rank: request.dpRank ?? 0 });
  return new Promise((resolve) => {
    let chunks = 0;
    let timer: NodeJS.Timeout | undefined;
    const inbox = createInbox();
    const finish = (outcome: 'complete' | 'partial' | 'failed'): void => {
      clearTimeout(timer);
      if (!sub.isClosed()) sub.unsubscribe();
      resolve(outcome);
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return finish(chunks > 0 ? 'partial' : 'failed');
        if (msg.data.length > 0) {
          chunks++;
          apply(msg.data);
          return;
        }
        // The empty end message; a no-responders status or a responder error header means failure.
        const failed = msg.headers !== undefined && (msg.headers.hasError || msg.headers.get(RESYNC_ERROR_HEADER) !== '');
        finish(failed ? (chunks > 0 ? 'partial' : 'failed') : 'complete');
      },
    });
    timer = setTimeout(() => finish(chunks > 0 ? 'partial' : 'failed'), timeoutMs);
    try {
      nc.publish(subject, body, { reply: inbox });
    } catch {
      finish('failed');
    }
  });
}

/** Header set on the final (empty) resync reply when the responder failed. */
export const RESYNC_ERROR_HEADER = 'Kvrouter-Resync-Error';

/** A worker's full state as KV event messages: one payload, several, or none. */
export type ResyncDump = Uint8Array | Iterable<Uint8Array>;

/** A running resync responder from {@link serveResync}. */
export interface ResyncResponder {
  /** Requests answered. */
  readonly answered: number;
  /** Stops answering (drains the subscription; the connection stays open). */
  close(): Promise<void>;
}

/**
 * Answers resync requests (the publisher side: an engine adapter or the simulator). For each
 * request `{"worker_id", "dp_rank"}` it calls `dump` and replies with the dump's payloads, then an
 * empty message that ends the dump. A failure of `dump` replies with only the empty end message
 * carrying the {@link RESYNC_ERROR_HEADER} header, so the requester retries instead of applying a
 * partial state. Payloads larger than the server's max payload should be split by `dump`.
 */
export function serveResync(
  nc: NatsConnection,
  subject: string,
  dump: (request: ResyncRequest) => ResyncDump | Promise<ResyncDump>,
  options: { queue?: string } = {},
): ResyncResponder {
  checkSubject(subject, 'serveResync: subject', true);
  if (typeof dump !== 'function') throw new TypeError(`serveResync: expected a dump function, got ${describe(dump)}`);
  const codec = JSONCodec<{ worker_id?: unknown; dp_rank?: unknown }>();
  let answered = 0;
  const sub = nc.subscribe(subject, {
    ...(options.queue ? { queue: options.queue } : {}),
    callback: (err, msg) => {
      if (err || !msg.reply) return;
      void answer(msg);
    },
  });
  async function answer(msg: Msg): Promise<void> {
    try {
      const body = codec.decode(msg.data);
      const workerId = body.worker_id;
      const dpRank = body.dp_rank ?? 0;
      if (typeof workerId !== 'string' || typeof dpRank !== 'number' || !Number.isInteger(dpRank) || dpRank < 0) {
        throw new TypeError('resync request: expected {"worker_id": string, "dp_rank": non-negative integer}');
      }
      const result = await dump({ workerId, dpRank });
      const chunks = result instanceof Uint8Array ? [result] : result;
      for (const chunk of chunks) if (chunk.length > 0) msg.respond(chunk);
      msg.respond(new Uint8Array(0));
      answered++;
    } catch (error) {
      const h = natsHeaders();
      h.set(RESYNC_ERROR_HEADER, error instanceof Error ? error.message.slice(0, 200) : 'failed');
      try {
        msg.respond(new Uint8Array(0), { headers: h });
      } catch {
        /* connection closing */
      }
    }
  }
  return {
    get answered() {
      return answered;
    },
    async close() {
      if (!sub.isClosed() && !nc.isClosed()) await sub.drain().catch(() => undefined);
    },
  };
}

/** Options of {@link createNatsPublisher}. */
export interface NatsPublisherOptions extends NatsConnectionOptions, NatsSubjectOptions {
  /** Publish on the per-worker subjects of this worker (`<base>.<workerId>`); absent: the base subjects. */
  workerId?: string;
  /** Publish events through JetStream (waits for the stream's acknowledgement). Default `false`. */
  jetstream?: boolean;
  /**
   * Wire format of event payloads given as event objects: with `dynamo-json` or `dynamo-msgpack`,
   * `publishEvents` also takes normalized `KvEvent`s (encoded as Dynamo `RouterEvent`s).
   */
  format?: EventFormat;
  /** Turns event objects into one payload (any format); overrides `format`. */
  encodeEvents?: (events: readonly KvEvent[]) => Uint8Array;
}

/** Options of one publish. */
export interface PublishOptions {
  /** Per-worker subject of this worker instead of the publisher's. */
  workerId?: string;
  /** JetStream de-duplication id (`Nats-Msg-Id`); JetStream publishers only. */
  msgId?: string;
}

/** A publisher from {@link createNatsPublisher} (engine adapters, the simulator, tests). */
export interface NatsPublisher {
  /** The connection in use. */
  readonly connection: NatsConnection;
  /** The base subjects. */
  readonly subjects: ResolvedSubjects;
  /**
   * Publishes one KV event message: a payload, or events (encoded with `encodeEvents`, or as
   * Dynamo `RouterEvent`s when `format` is a Dynamo format). With
   * `jetstream`, resolves with the stream sequence once stored.
   */
  publishEvents(payload: Uint8Array | readonly KvEvent[], options?: PublishOptions): Promise<bigint | undefined>;
  /** Publishes one metrics message. */
  publishMetrics(payload: Uint8Array, options?: PublishOptions): void;
  /** Answers resync requests on the resync subject with `dump` (see {@link serveResync}). */
  serveResync(dump: (request: ResyncRequest) => ResyncDump | Promise<ResyncDump>): ResyncResponder;
  /** Waits until the server has everything published so far. */
  flush(): Promise<void>;
  /** Flushes, stops resync responders and, when the publisher opened the connection, closes it. */
  close(): Promise<void>;
}

/** Creates a NATS publisher for the subjects a {@link subscribeNats} subscriber listens on. */
export async function createNatsPublisher(options: NatsPublisherOptions): Promise<NatsPublisher> {
  if (options === null || typeof options !== 'object') throw new TypeError(`createNatsPublisher: expected an options object, got ${describe(options)}`);
  const subjects = resolveSubjects(options, 'createNatsPublisher');
  checkSubject(subjects.events, 'createNatsPublisher: eventsSubject', false);
  if (subjects.metrics !== undefined) checkSubject(subjects.metrics, 'createNatsPublisher: metricsSubject', false);
  if (options.workerId !== undefined) workerSubject(subjects.events, options.workerId);
  const held = await holdConnection(options, 'createNatsPublisher');
  const nc = held.nc;
  const js = options.jetstream ? nc.jetstream() : undefined;
  const encode =
    options.encodeEvents ??
    (options.format === 'dynamo-json' ? (e: readonly KvEvent[]) => encodeDynamoEvent(e, 'json')
      : options.format === 'dynamo-msgpack' ? (e: readonly KvEvent[]) => encodeDynamoEvent(e, 'msgpack')
      : undefined);
  const responders: ResyncResponder[] = [];
  const subjectFor = (base: string, workerId: string | undefined): string =>
    workerId === undefined ? base : workerSubject(base, workerId);
  return {
    connection: nc,
    subjects,
    async publishEvents(payload, publish = {}) {
      let bytes: Uint8Array;
      if (payload instanceof Uint8Array) bytes = payload;
      else if (Array.isArray(payload) && encode) bytes = encode(payload);
      else throw new TypeError(`publishEvents: expected a Uint8Array payload (or events, with \`format\` 'dynamo-json' / 'dynamo-msgpack' or \`encodeEvents\`), got ${describe(payload)}`);
      const subject = subjectFor(subjects.events, publish.workerId ?? options.workerId);
      if (js) {
        const ack = await js.publish(subject, bytes, publish.msgId !== undefined ? { msgID: publish.msgId } : {});
        return BigInt(ack.seq);
      }
      nc.publish(subject, bytes);
      return undefined;
    },
    publishMetrics(payload, publish = {}) {
      if (subjects.metrics === undefined) throw new TypeError('publishMetrics: this publisher has no metrics subject');
      if (!(payload instanceof Uint8Array)) throw new TypeError(`publishMetrics: expected a Uint8Array, got ${describe(payload)}`);
      nc.publish(subjectFor(subjects.metrics, publish.workerId ?? options.workerId), payload);
    },
    serveResync(dump) {
      if (subjects.resync === undefined) throw new TypeError('serveResync: this publisher has no resync subject');
      const responder = serveResync(nc, subjects.resync, dump);
      responders.push(responder);
      return responder;
    },
    flush() {
      return nc.flush();
    },
    async close() {
      await Promise.all(responders.map((r) => r.close()));
      await releaseConnection(held);
    },
  };
}

/** Throws unless `sink` has an `ingest` method. @internal */
export function checkSink(sink: unknown, what: string): asserts sink is MessageSink {
  if (sink === null || typeof sink !== 'object' || typeof (sink as MessageSink).ingest !== 'function') {
    throw new TypeError(`${what}: expected an ingestor (an object with an ingest(bytes, meta) method), got ${describe(sink)}`);
  }
}
