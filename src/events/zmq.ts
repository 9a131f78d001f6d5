import type { EventFormat } from './types.js';
import type { MessageSink } from './transport-types.js';
import { checkSink } from './nats.js';
import { describe } from './transport-subjects.js';

type ZeroMq = typeof import('zeromq');
type ZmqSubscriber = InstanceType<ZeroMq['Subscriber']>;

let zeromqModule: Promise<ZeroMq> | undefined;

/**
 * Loads the optional `zeromq` package on first use.
 * @internal
 */
export function loadZeroMq(): Promise<ZeroMq> {
  zeromqModule ??= import('zeromq').catch((error: unknown) => {
    zeromqModule = undefined;
    throw new Error(
      `kvrouter: ZeroMQ transport needs the optional package "zeromq" (v6). Install it with \`npm install zeromq\`. (${(error as Error)?.message ?? error})`,
    );
  });
  return zeromqModule;
}

/** Sequence number vLLM uses as the end marker of a replay (all bits set). */
export const ZMQ_REPLAY_END = 0xffff_ffff_ffff_ffffn;

/** Options of {@link subscribeZmq}. */
export interface SubscribeZmqOptions {
  /** The engine's PUB endpoint, e.g. `tcp://10.0.0.7:5557`. */
  endpoint: string;
  /** Topic prefix to subscribe to. Default `''` (everything). */
  topic?: string;
  /** The worker this engine is (the payloads do not say). */
  workerId: string;
  /** Data-parallel rank, when the engine's batches do not carry it. */
  dpRank?: number;
  /** Wire format of the payloads. Default `'vllm'`. */
  format?: EventFormat;
  /** The engine's replay ROUTER endpoint (vLLM `replay_endpoint`); without it gaps are only reported. */
  replayEndpoint?: string;
  /** How long to wait for each replay reply, in ms. Default 5000. */
  replayTimeoutMs?: number;
  /** Messages ZeroMQ may queue while a replay runs (SUB receive high-water mark). Default 100000. */
  highWaterMark?: number;
}

/** Counters of a ZeroMQ subscription. */
export interface ZmqSubscriptionCounters {
  /** Messages handed to the sink (live and replayed). */
  messages: number;
  /** Of those, replayed ones. */
  replayed: number;
  /** Messages with a bad envelope (frame count, seq width), dropped. */
  malformed: number;
  /** Live messages already delivered by a replay, dropped. */
  duplicates: number;
  /** Sequence gaps seen on the live stream. */
  gaps: number;
  /** Gaps left unfilled (no replay endpoint, or the engine no longer held them): handed to the sink, which resets the worker. */
  unrecovered: number;
  /** Engine restarts seen (sequence went backwards). */
  restarts: number;
  /** Replay requests sent. */
  replays: number;
  /** Replays that failed (timeout, bad reply). */
  replayFailures: number;
  /** Times the sink threw (message dropped, subscription keeps running). */
  sinkErrors: number;
  /** Connections to the engine (first connect and reconnects). */
  connects: number;
  /** Connection losses. */
  disconnects: number;
}

/** A running ZeroMQ subscription from {@link subscribeZmq}. */
export interface ZmqSubscription {
  /** A copy of the counters. */
  counters(): ZmqSubscriptionCounters;
  /** Sequence of the last message handed to the sink, or `undefined` before any. */
  lastSequence(): bigint | undefined;
  /** Resolves when every message received and every replay started so far has been handled. */
  idle(): Promise<void>;
  /** Closes the sockets. */
  close(): Promise<void>;
}

/**
 * Subscribes `sink` to a vLLM / SGLang engine's ZeroMQ KV event stream.
 *
 * Frames are `[topic, seq (u64 big-endian), payload]`; each payload goes to the sink as
 * `{format, workerId, dpRank, seq, transport: 'zmq'}` strictly in sequence order. With a
 * `replayEndpoint`, the subscription asks the engine for what it missed: on connect (from the next
 * expected sequence, 0 the first time), on a gap, and after an engine restart (from 0). Replies of
 * both forms (`["", seq, payload]` and `["", topic, seq, payload]`) are read until the end marker
 * ({@link ZMQ_REPLAY_END}); live messages a replay already delivered are dropped. A gap the replay
 * cannot fill, and an engine restart (sequence back to a lower number), are passed on as they are,
 * so the sink's sequence tracking resets or clears the worker.
 *
 * Needs the optional `zeromq` package.
 */
export async function subscribeZmq(sink: MessageSink, options: SubscribeZmqOptions): Promise<ZmqSubscription> {
  checkSink(sink, 'subscribeZmq');
  if (options === null || typeof options !== 'object') throw new TypeError(`subscribeZmq: expected an options object, got ${describe(options)}`);
  checkEndpoint(options.endpoint, 'subscribeZmq: endpoint');
  if (options.replayEndpoint !== undefined) checkEndpoint(options.replayEndpoint, 'subscribeZmq: replayEndpoint');
  if (typeof options.workerId !== 'string' || options.workerId.length === 0) {
    throw new TypeError(`subscribeZmq: workerId must be a non-empty string, got ${describe(options.workerId)}`);
  }
  if (options.dpRank !== undefined && (!Number.isInteger(options.dpRank) || options.dpRank < 0)) {
    throw new RangeError(`subscribeZmq: dpRank must be a non-negative integer, got ${describe(options.dpRank)}`);
  }
  if (options.topic !== undefined && typeof options.topic !== 'string') throw new TypeError(`subscribeZmq: topic must be a string, got ${describe(options.topic)}`);
  const zmq = await loadZeroMq();
  const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: options.highWaterMark ?? 100_000 });
  const subscription = new ZmqStream(zmq, socket, sink, options);
  subscription.start(); // observe socket events before connecting, or the first handshake is missed
  socket.subscribe(options.topic ?? '');
  socket.connect(options.endpoint);
  return subscription;
}

function checkEndpoint(value: unknown, what: string): void {
  if (typeof value !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(value)) {
    throw new TypeError(`${what}: expected a ZeroMQ endpoint like "tcp://host:port", got ${describe(value)}`);
  }
}

/** Reads a u64 big-endian sequence frame; `undefined` when not 8 bytes. */
function readSeq(frame: Uint8Array): bigint | undefined {
  if (frame.length !== 8) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, 8);
  return view.getBigUint64(0, false);
}

/** Encodes a u64 big-endian sequence frame. @internal */
export function seqFrame(seq: bigint): Buffer {
  const frame = Buffer.allocUnsafe(8);
  frame.writeBigUInt64BE(seq);
  return frame;
}

class ZmqStream implements ZmqSubscription {
  private readonly counts: ZmqSubscriptionCounters = {
    messages: 0, replayed: 0, malformed: 0, duplicates: 0, gaps: 0, unrecovered: 0, restarts: 0,
    replays: 0, replayFailures: 0, sinkErrors: 0, connects: 0, disconnects: 0,
  };
  /** Next sequence expected; undefined before the first message. */
  private next: bigint | undefined;
  /** Live messages at or above this sequence and below `next` were already delivered by a replay. */
  private dedupeFrom: bigint | undefined;
  /** Serializes live handling and replays so the sink sees one ordered stream. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private receiving: Promise<void> | undefined;
  private readonly format: EventFormat;

  constructor(
    private readonly zmq: ZeroMq,
    private readonly socket: ZmqSubscriber,
    private readonly sink: MessageSink,
    private readonly options: SubscribeZmqOptions,
  ) {
    this.format = options.format ?? 'vllm';
  }

  start(): void {
    this.socket.events.on('handshake', () => {
      this.counts.connects++;
      if (this.options.replayEndpoint !== undefined) this.enqueue(() => this.replay(this.next ?? 0n));
    });
    this.socket.events.on('disconnect', () => {
      this.counts.disconnects++;
      this.enqueue(async () => {
        this.dedupeFrom = undefined; // a lower sequence after a reconnect is a restart, not a duplicate
      });
    });
    this.receiving = this.receive();
  }

  counters(): ZmqSubscriptionCounters {
    return { ...this.counts };
  }

  lastSequence(): bigint | undefined {
    return this.next === undefined ? undefined : this.next - 1n;
  }

  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work).catch(() => undefined);
    return this.chain;
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        if (frames.length !== 3) {
          this.counts.malformed++;
          continue;
        }
        const seq = readSeq(frames[1]!);
        if (seq === undefined) {
          this.counts.malformed++;
          continue;
        }
        const payload = frames[2]!;
        // Back-pressure: while a replay runs, live messages wait in ZeroMQ's queue.
        await this.enqueue(() => this.onLive(seq, payload));
      }
    } catch {
      /* socket closed */
    }
  }

  private async onLive(seq: bigint, payload: Uint8Array): Promise<void> {
    if (this.closed) return;
    const canReplay = this.options.replayEndpoint !== undefined;
    if (this.next === undefined && canReplay && seq > 0n) await this.replay(0n);
    const next = this.next;
    if (next === undefined || seq === next) return this.deliver(seq, payload, false);
    if (seq > next) {
      this.counts.gaps++;
      if (canReplay) await this.replay(next);
      const after = this.next as bigint;
      if (seq < after) {
        this.counts.duplicates++;
        return;
      }
      if (seq > after) this.counts.unrecovered++;
      return this.deliver(seq, payload, false);
    }
    // seq < next: a live message a replay already delivered, or an engine restart.
    if (this.dedupeFrom !== undefined && seq >= this.dedupeFrom) {
      this.counts.duplicates++;
      return;
    }
    this.counts.restarts++;
    this.dedupeFrom = undefined;
    if (canReplay && seq > 0n) {
      this.next = 0n;
      await this.replay(0n);
      const after = this.next as bigint;
      if (seq < after) {
        this.counts.duplicates++;
        return;
      }
    }
    this.deliver(seq, payload, false);
  }

  private deliver(seq: bigint, payload: Uint8Array, replayed: boolean): void {
    this.next = seq + 1n;
    this.counts.messages++;
    if (replayed) this.counts.replayed++;
    const { workerId, dpRank } = this.options;
    try {
      this.sink.ingest(payload, dpRank === undefined
        ? { format: this.format, workerId, seq, transport: 'zmq' }
        : { format: this.format, workerId, dpRank, seq, transport: 'zmq' });
    } catch {
      this.counts.sinkErrors++;
    }
  }

  /** Asks the replay endpoint for every message from `from` on and delivers the new ones in order. */
  private async replay(from: bigint): Promise<void> {
    const endpoint = this.options.replayEndpoint;
    if (endpoint === undefined || this.closed) return;
    this.counts.replays++;
    const dealer = new this.zmq.Dealer({ linger: 0, receiveTimeout: this.options.replayTimeoutMs ?? 5000 });
    try {
      dealer.connect(endpoint);
      await dealer.send([Buffer.alloc(0), seqFrame(from)]);
      for (;;) {
        const frames = await dealer.receive();
        // ["", seq, payload] or (newer vLLM) ["", topic, seq, payload]
        const seqIndex = frames.length === 4 ? 2 : frames.length === 3 ? 1 : -1;
        const seq = seqIndex < 0 ? undefined : readSeq(frames[seqIndex]!);
        if (seq === undefined || frames[0]!.length !== 0) throw new Error('bad replay reply');
        if (seq === ZMQ_REPLAY_END) break;
        if (seq < from || (this.next !== undefined && seq < this.next)) continue;
        // The engine no longer holds what we asked for: hand the gap on to the sink.
        if (this.next !== undefined && seq > this.next) this.counts.unrecovered++;
        this.deliver(seq, frames[seqIndex + 1]!, true);
      }
      this.dedupeFrom = from;
    } catch {
      if (!this.closed) this.counts.replayFailures++;
    } finally {
      dealer.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    await this.receiving;
    await this.chain;
  }
}

/**
 * Binds, retrying for up to 3 s while the address is still held (a restarted engine rebinding the
 * port of the process or socket it replaces, which ZeroMQ releases asynchronously).
 */
async function bindRetrying(socket: { bind(address: string): Promise<void> }, address: string): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    try {
      return await socket.bind(address);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Options of {@link createZmqEnginePublisher}. */
export interface ZmqEnginePublisherOptions {
  /** PUB endpoint to bind, e.g. `tcp://127.0.0.1:*` (a free port; see `endpoint`). */
  bind: string;
  /** ROUTER endpoint to bind for replays; absent: no replay. */
  replayBind?: string;
  /** Topic frame. Default `''`. */
  topic?: string;
  /** Messages kept for replay. Default 10000. */
  bufferSize?: number;
  /** Replay reply form: `'seq'` = `["", seq, payload]`, `'topic'` = `["", topic, seq, payload]`. Default `'seq'`. */
  replyForm?: 'seq' | 'topic';
}

/** An engine-side publisher from {@link createZmqEnginePublisher}. */
export interface ZmqEnginePublisher {
  /** The bound PUB endpoint (with the real port). */
  readonly endpoint: string;
  /** The bound replay endpoint, if any. */
  readonly replayEndpoint: string | undefined;
  /** Sequence the next message gets. */
  readonly nextSequence: bigint;
  /** Replay requests answered. */
  readonly replaysServed: number;
  /**
   * Publishes one payload with the next sequence and keeps it for replay. With `drop`, the message
   * is kept for replay but not sent (simulates loss on the wire). Returns its sequence.
   */
  publish(payload: Uint8Array, options?: { drop?: boolean }): Promise<bigint>;
  /** Closes both sockets. */
  close(): Promise<void>;
}

/**
 * A tiny stand-in for a vLLM engine's ZeroMQ event publisher (tests, the simulator): PUB socket with
 * three-frame messages and sequences from 0, a replay buffer, and a ROUTER that answers replay
 * requests `["", start_seq]` like vLLM does (every kept message from `start_seq` on, then the end
 * marker). Needs the optional `zeromq` package.
 */
export async function createZmqEnginePublisher(options: ZmqEnginePublisherOptions): Promise<ZmqEnginePublisher> {
  if (options === null || typeof options !== 'object') throw new TypeError(`createZmqEnginePublisher: expected an options object, got ${describe(options)}`);
  checkEndpoint(options.bind, 'createZmqEnginePublisher: bind');
  if (options.replayBind !== undefined) checkEndpoint(options.replayBind, 'createZmqEnginePublisher: replayBind');
  const bufferSize = options.bufferSize ?? 10_000;
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new RangeError(`createZmqEnginePublisher: bufferSize must be a positive integer, got ${describe(bufferSize)}`);
  const zmq = await loadZeroMq();
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  await bindRetrying(pub, options.bind);
  const router = options.replayBind !== undefined ? new zmq.Router({ linger: 0, sendHighWaterMark: 0 }) : undefined;
  if (router && options.replayBind !== undefined) await bindRetrying(router, options.replayBind);
  const topic = Buffer.from(options.topic ?? '');
  const empty = Buffer.alloc(0);
  const kept: { seq: bigint; payload: Uint8Array }[] = [];
  let next = 0n;
  let served = 0;
  let sending: Promise<void> = Promise.resolve();
  const serving = router ? serve(router) : Promise.resolve();

  async function serve(socket: NonNullable<typeof router>): Promise<void> {
    try {
      for await (const frames of socket) {
        const [identity, delimiter, start] = frames;
        const from = frames.length === 3 && delimiter!.length === 0 ? readSeq(start!) : undefined;
        if (from === undefined) continue;
        for (const { seq, payload } of kept.filter((m) => m.seq >= from)) {
          const body = options.replyForm === 'topic' ? [identity!, empty, topic, seqFrame(seq), payload] : [identity!, empty, seqFrame(seq), payload];
          await socket.send(body);
        }
        await socket.send([identity!, empty, seqFrame(ZMQ_REPLAY_END), empty]);
        served++;
      }
    } catch {
      /* closed */
    }
  }

  return {
    endpoint: pub.lastEndpoint ?? options.bind,
    replayEndpoint: router ? (router.lastEndpoint ?? options.replayBind) : undefined,
    get nextSequence() {
      return next;
    },
    get replaysServed() {
      return served;
    },
    publish(payload, publish = {}) {
      if (!(payload instanceof Uint8Array)) return Promise.reject(new TypeError(`publish: expected a Uint8Array, got ${describe(payload)}`));
      const seq = next++;
      kept.push({ seq, payload });
      if (kept.length > bufferSize) kept.shift();
      if (!publish.drop) sending = sending.then(() => pub.send([topic, seqFrame(seq), payload]));
      return sending.then(() => seq);
    },
    async close() {
      await sending.catch(() => undefined);
      pub.close();
      router?.close();
      await serving;
    },
  };
}
