/**
 * JetStream durable consumer against a real nats-server: the server is SIGKILLed and restarted
 * (same store) and the consumer is replaced (close, new connection, same durable) mid-stream; the
 * final index equals a reference fed with every event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPublisher, subscribeJetStream, type JetStreamSubscription, type NatsPublisher } from '../src/events/transports.js';
import { natsAvailability, NatsServer } from './helpers/nats-server.js';
import { createTestSink, makeWorkload, sameIndex, truthIndex, waitFor } from './helpers/transport-sink.js';

const availability = natsAvailability(true);
const suite = availability.kind === 'binary' ? describe : describe.skip;

/** Publishes with a de-duplication id, retrying (the server may be down) until stored. */
async function publishStored(pub: NatsPublisher, bytes: Uint8Array, msgId: string, deadline: number): Promise<bigint> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await pub.publishEvents(bytes, { msgId }))!;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
    }
  }
}

suite('JetStream durable consumer (real nats-server)', () => {
  let server: NatsServer;
  beforeAll(async () => {
    if (availability.kind !== 'binary') return;
    server = await NatsServer.start(availability.binary);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('loses nothing across a server crash + restart and a consumer restart with the same durable', async () => {
    const items = makeWorkload(23, 4, 3000, true);
    const { sink, index, kind } = await createTestSink();
    const common = { namespace: 'ns', component: 'js', format: 'dynamo-json' as const, durable: 'router_a' };
    let sub: JetStreamSubscription = await subscribeJetStream(sink, { servers: server.url, ...common });
    await sub.ready();
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'js', jetstream: true });
    const deadline = Date.now() + 40_000;
    let lastSeq = 0n;
    try {
      for (const [i, item] of items.entries()) {
        if (i === 1000) {
          await server.kill();
          setTimeout(() => void server.restart(), 300);
        }
        if (i === 2000) {
          // A new router process: close (acks and flushes), then a new connection with the same durable.
          expect(sub.lastSequence()).toBeGreaterThan(1000n);
          // The crash was seen and consumption restarted exactly after it.
          expect(sub.counters().disconnects).toBeGreaterThanOrEqual(1);
          expect(sub.counters().starts).toBeGreaterThanOrEqual(2);
          await sub.close();
          sub = await subscribeJetStream(sink, { servers: server.url, ...common });
        }
        lastSeq = await publishStored(pub, item.bytes, `e${i}`, deadline);
      }
      expect(lastSeq).toBe(BigInt(items.length)); // de-duplicated: exactly one stream message per event
      await waitFor(() => sub.lastSequence() === lastSeq, 15_000, () => `consumer at ${sub.lastSequence()} of ${lastSeq} ${JSON.stringify(sub.counters())} ${sub.lastError()}`);
      const truth = truthIndex(items);
      const cmp = sameIndex(index, truth, items);
      expect(cmp.detail, `sink ${kind}`).toBe('equal');
      const c = sub.counters();
      expect(c.gaps).toBe(0);
      expect(c.lostSequences).toBe(0);
    } finally {
      await sub.close();
      await pub.close();
    }
  }, 60_000);

  it('a fresh process resumes after the ack floor, or after resumeAfter, and reports sequences the stream lost', async () => {
    const items = makeWorkload(5, 2, 200);
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'resume', jetstream: true });
    const seen: bigint[] = [];
    const sink = { ingest: (_b: Uint8Array, meta: { seq?: bigint }) => void seen.push(meta.seq!), noteTransportGap: () => void seen.push(-1n) };
    const common = { namespace: 'ns', component: 'resume', format: 'dynamo-json' as const };
    let sub = await subscribeJetStream(sink, { servers: server.url, ...common, durable: 'r1' });
    await sub.ready();
    try {
      for (const item of items.slice(0, 100)) await pub.publishEvents(item.bytes);
      await waitFor(() => seen.length === 100, 5000, '100 messages');
      await sub.close();
      for (const item of items.slice(100)) await pub.publishEvents(item.bytes);
      sub = await subscribeJetStream(sink, { servers: server.url, ...common, durable: 'r1' });
      await waitFor(() => seen.length === 200, 5000, '200 messages');
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
      await sub.close();
      // A snapshot taken at 150: a new durable resumes after it.
      seen.length = 0;
      sub = await subscribeJetStream(sink, { servers: server.url, ...common, durable: 'r2', resumeAfter: 150n });
      await waitFor(() => seen.length === 50, 5000, '50 messages');
      expect(seen[0]).toBe(151n);
      await sub.close();
      // Messages deleted from the stream while nobody consumed: reported as a gap, the rest applied.
      const jsm = await pub.connection.jetstreamManager();
      for (const item of items.slice(0, 10)) await pub.publishEvents(item.bytes); // 201..210
      await jsm.streams.deleteMessage(sub.stream, 201);
      await jsm.streams.deleteMessage(sub.stream, 202);
      seen.length = 0;
      sub = await subscribeJetStream(sink, { servers: server.url, ...common, durable: 'r1' });
      await waitFor(() => seen.length === 9, 5000, () => `9 entries, got ${seen}`);
      expect(seen).toEqual([-1n, 203n, 204n, 205n, 206n, 207n, 208n, 209n, 210n]);
      expect(sub.counters().lostSequences).toBe(2);
    } finally {
      await sub.close();
      await pub.close();
    }
  });

  it('recovers when its durable consumer is deleted under it', async () => {
    const seen: bigint[] = [];
    const sink = { ingest: (_b: Uint8Array, meta: { seq?: bigint }) => void seen.push(meta.seq!) };
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'deleted', jetstream: true });
    const sub = await subscribeJetStream(sink, { servers: server.url, namespace: 'ns', component: 'deleted', format: 'dynamo-json', durable: 'd1' });
    await sub.ready();
    try {
      for (let i = 0; i < 20; i++) await pub.publishEvents(new Uint8Array([i]));
      await waitFor(() => seen.length === 20, 5000, '20 messages');
      const jsm = await pub.connection.jetstreamManager();
      await jsm.consumers.delete(sub.stream, 'd1');
      for (let i = 0; i < 20; i++) await pub.publishEvents(new Uint8Array([i]));
      await waitFor(() => seen.length === 40, 10_000, () => `40 messages, got ${seen.length} ${JSON.stringify(sub.counters())}`);
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
    } finally {
      await sub.close();
      await pub.close();
    }
  });

  it('per-worker subjects: the stream covers <base>.>, worker ids come from the subject, seq is not passed', async () => {
    const got: string[] = [];
    const sink = { ingest: (b: Uint8Array, meta: { workerId?: string; seq?: bigint }) => void got.push(`${meta.workerId}|${meta.seq}|${new TextDecoder().decode(b)}`) };
    const sub = await subscribeJetStream(sink, { servers: server.url, namespace: 'ns', component: 'perworker', format: 'vllm', workerIdFrom: 'subject', durable: 'pw' });
    await sub.ready();
    const pubs: NatsPublisher[] = [];
    try {
      for (const workerId of ['10.0.0.1:8000', '10.0.0.2:8000']) {
        const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'perworker', jetstream: true, workerId });
        pubs.push(pub);
        await pub.publishEvents(new TextEncoder().encode(`x${workerId}`));
        await pub.publishEvents(new TextEncoder().encode(`y${workerId}`));
      }
      await waitFor(() => got.length === 4, 5000, () => `4 messages, got ${got}`);
      expect(got).toEqual(['10.0.0.1:8000|undefined|x10.0.0.1:8000', '10.0.0.1:8000|undefined|y10.0.0.1:8000', '10.0.0.2:8000|undefined|x10.0.0.2:8000', '10.0.0.2:8000|undefined|y10.0.0.2:8000']);
      expect(sub.lastSequence()).toBe(4n);
    } finally {
      await sub.close();
      for (const p of pubs) await p.close();
    }
  });
});
