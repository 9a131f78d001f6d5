/**
 * ZeroMQ transport with real zeromq sockets on tcp://127.0.0.1: live stream, gaps filled by DEALER
 * replays (both reply forms, end marker), and an engine restart (seq back to 0) clearing the worker,
 * end to end through the ingestor into a reference index.
 */
import { describe, expect, it } from 'vitest';
import { createZmqEnginePublisher, subscribeZmq, type ZmqEnginePublisher, type ZmqSubscription } from '../src/events/transports.js';
import { createHasher } from '../src/hashing/index.js';
import { createTestSink, sameIndex, waitFor, type WorkItem } from './helpers/transport-sink.js';
import { ENGINE_BLOCK_SIZE, makeVllmWorkload, vllmTruth } from './helpers/zmq-workload.js';

const hasher = await createHasher({ blockSize: ENGINE_BLOCK_SIZE });

async function publishAll(engine: ZmqEnginePublisher, items: readonly WorkItem[], drop: (i: number) => boolean = () => false): Promise<bigint> {
  let last = -1n;
  for (const [i, item] of items.entries()) {
    last = await engine.publish(item.bytes, { drop: drop(i) });
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1)); // let the subscriber run
  }
  return last;
}

describe.each(['seq', 'topic'] as const)('ZeroMQ transport (replay reply form %s)', (replyForm) => {
  it('fills a gap by replay, ends complete, and clears the worker on an engine restart', async () => {
    const workerId = '10.0.0.7:8000';
    const items = makeVllmWorkload(replyForm === 'seq' ? 3 : 4, workerId, 600, hasher, replyForm === 'seq' ? 'map' : 'positional');
    const test = await createTestSink();
    let engine = await createZmqEnginePublisher({ bind: 'tcp://127.0.0.1:*', replayBind: 'tcp://127.0.0.1:*', topic: 'kv', replyForm });
    const { endpoint, replayEndpoint } = engine;
    let sub: ZmqSubscription | undefined;
    try {
      sub = await subscribeZmq(test.sink, { endpoint, replayEndpoint: replayEndpoint!, topic: 'kv', workerId, replayTimeoutMs: 2000 });
      // Live stream (what the subscription misses while it joins comes from the replay on connect).
      await waitFor(() => engine.replaysServed >= 1, 10_000, 'replay on connect');
      const first = await publishAll(engine, items.slice(0, 200));
      await waitFor(() => sub!.lastSequence() === first, 10_000, () => `seq ${first}, at ${sub!.lastSequence()} ${JSON.stringify(sub!.counters())}`);
      // Messages 200..259 are "lost on the wire" (kept for replay only); 260.. reveal the gap.
      const last = await publishAll(engine, items.slice(200, 400), (i) => i < 60);
      await waitFor(() => sub!.lastSequence() === last, 10_000, () => `seq ${last}, at ${sub!.lastSequence()} ${JSON.stringify(sub!.counters())}`);
      await sub.idle();
      const c = sub.counters();
      expect(c.gaps).toBeGreaterThanOrEqual(1);
      expect(c.replayed).toBeGreaterThanOrEqual(60);
      expect(c.unrecovered).toBe(0);
      expect(c.replayFailures).toBe(0);
      expect(engine.replaysServed).toBeGreaterThanOrEqual(2); // on connect and on the gap
      const firstPart = items.slice(0, 400);
      expect(sameIndex(test.index, vllmTruth(firstPart), firstPart).detail).toBe('equal');

      // Engine restart: same endpoints, sequences from 0, a new cache state.
      await engine.close();
      engine = await createZmqEnginePublisher({ bind: endpoint, replayBind: replayEndpoint!, topic: 'kv', replyForm });
      const after = makeVllmWorkload(replyForm === 'seq' ? 30 : 40, workerId, 200, hasher);
      await new Promise((r) => setTimeout(r, 300)); // let the SUB reconnect (it would replay anyway)
      const last2 = await publishAll(engine, after);
      await waitFor(() => sub!.lastSequence() === last2 && sub!.counters().restarts >= 1, 10_000, () => `restart seq ${last2}, at ${sub!.lastSequence()} ${JSON.stringify(sub!.counters())}`);
      await sub.idle();
      // Old blocks are gone: the index equals the new engine's events only.
      expect(sameIndex(test.index, vllmTruth(after), [...firstPart, ...after]).detail).toBe('equal');
    } finally {
      await sub?.close();
      await engine.close();
    }
  });
});

describe('ZeroMQ transport without replay', () => {
  it('passes gaps and restarts on to the sink, drops malformed envelopes, rejects bad options', async () => {
    const seen: bigint[] = [];
    const sink = { ingest: (_b: Uint8Array, meta: { seq?: bigint; workerId?: string; transport?: string }) => void seen.push(meta.seq!) };
    const engine = await createZmqEnginePublisher({ bind: 'tcp://127.0.0.1:*' });
    const zmq = await import('zeromq');
    const raw = new zmq.Publisher({ linger: 0 });
    await raw.bind('tcp://127.0.0.1:*');
    const sub = await subscribeZmq(sink, { endpoint: engine.endpoint, workerId: 'w' });
    const rawSub = await subscribeZmq(sink, { endpoint: raw.lastEndpoint!, workerId: 'raw' });
    try {
      await waitFor(() => sub.counters().connects >= 1 && rawSub.counters().connects >= 1, 5000, 'connect');
      await new Promise((r) => setTimeout(r, 100)); // subscription propagation
      for (let i = 0; i < 5; i++) await engine.publish(new Uint8Array([i]), { drop: i === 2 });
      await waitFor(() => seen.length === 4, 5000, () => `4 messages, got ${seen}`);
      expect(seen).toEqual([0n, 1n, 3n, 4n]);
      expect(sub.counters().gaps).toBe(1);
      expect(sub.counters().unrecovered).toBe(1); // no replay endpoint: handed on to the sink as a gap
      await raw.send([Buffer.from('t'), Buffer.from([1, 2, 3])]); // 2 frames
      await raw.send([Buffer.from('t'), Buffer.from([1, 2, 3]), Buffer.from('x')]); // seq not 8 bytes
      await waitFor(() => rawSub.counters().malformed === 2, 5000, 'malformed counted');
      await expect(subscribeZmq(sink, { endpoint: 'localhost:5557', workerId: 'w' })).rejects.toThrow(TypeError);
      await expect(subscribeZmq(sink, { endpoint: 'tcp://127.0.0.1:1', workerId: '' })).rejects.toThrow(TypeError);
      await expect(subscribeZmq({} as never, { endpoint: 'tcp://127.0.0.1:1', workerId: 'w' })).rejects.toThrow(TypeError);
    } finally {
      await sub.close();
      await rawSub.close();
      raw.close();
      await engine.close();
    }
  });
});
