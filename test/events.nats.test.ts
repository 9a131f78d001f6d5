/**
 * Core NATS transport against a real nats-server: reconnect after a crash reports the gap and
 * resyncs, garbage does not stop the subscriber, per-worker subjects, metrics, resync protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsPublisher, serveResync, subscribeNats, type NatsPublisher } from '../src/events/transports.js';
import { natsAvailability, NatsServer } from './helpers/nats-server.js';
import { createTestSink, makeWorkload, sameIndex, truthIndex, waitFor, type WorkItem } from './helpers/transport-sink.js';

// Kill/restart needs our own server; the other tests also run against NATS_URL.
const availability = natsAvailability(false);
const suite = availability.kind === 'none' ? describe.skip : describe;
if (availability.kind === 'url') console.warn('!!! NATS crash test skipped: it needs a nats-server binary (NATS_URL given) !!!');

suite('NATS core transport (real nats-server)', () => {
  let server: NatsServer | { url: string; stop(): Promise<void>; kill(): Promise<void>; restart(): Promise<void> };
  beforeAll(async () => {
    if (availability.kind === 'binary') server = await NatsServer.start(availability.binary);
    else if (availability.kind === 'url') {
      const url = availability.url;
      server = { url, stop: async () => undefined, kill: async () => undefined, restart: async () => undefined };
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Resync responder of a publisher: every stored event of that worker published so far. */
  function dumpFrom(published: WorkItem[]) {
    return ({ workerId }: { workerId: string }) => published.filter((i) => i.workerId === workerId).map((i) => i.bytes);
  }

  it.skipIf(availability.kind !== 'binary')('reconnects after the server is SIGKILLed mid-stream, reports the gap, resyncs and ends equal to the truth', async () => {
    const items = makeWorkload(7, 4, 1500);
    const { sink, index, resyncs, kind } = await createTestSink();
    const sub = await subscribeNats(sink, { servers: server.url, namespace: 'ns', component: 'fault', format: 'dynamo-json', resyncTimeoutMs: 2000 });
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'fault' });
    const published: WorkItem[] = [];
    pub.serveResync(dumpFrom(published));
    try {
      let i = 0;
      const publishSome = async (n: number) => {
        for (const end = Math.min(items.length, i + n); i < end; i++) {
          published.push(items[i]!);
          await pub.publishEvents(items[i]!.bytes);
        }
      };
      await publishSome(500);
      await pub.flush();
      await waitFor(() => sub.counters().messages >= 500, 5000, 'first 500 messages');
      // Crash the server while the publisher keeps going.
      await server.kill();
      await publishSome(300); // buffered by the client during the outage; may or may not survive
      await new Promise((r) => setTimeout(r, 300));
      await server.restart();
      await waitFor(() => sub.counters().reconnects >= 1, 10_000, 'subscriber reconnect');
      await waitFor(() => sub.counters().resyncsApplied >= 1, 10_000, () => `resync applied ${JSON.stringify(sub.counters())}`);
      await publishSome(items.length);
      await pub.flush();
      const truth = truthIndex(items);
      await waitFor(() => sameIndex(index, truth, items).equal, 10_000, () => `index equal to truth (${kind}): ${sameIndex(index, truth, items).detail} ${JSON.stringify(sub.counters())}`);
      const c = sub.counters();
      expect(c.disconnects).toBeGreaterThanOrEqual(1);
      expect(c.gaps).toBeGreaterThanOrEqual(1);
      expect(resyncs.length).toBeGreaterThanOrEqual(1);
      expect(c.resyncFailures).toBe(0);
    } finally {
      await sub.close();
      await pub.close();
    }
  });

  it('keeps applying good messages interleaved with garbage', async () => {
    const items = makeWorkload(11, 3, 600, true);
    const test = await createTestSink();
    const sub = await subscribeNats(test.sink, { servers: server.url, namespace: 'ns', component: 'garbage', format: 'dynamo-json', resyncSubject: false });
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'garbage' });
    try {
      const garbage = [
        new Uint8Array([0xff, 0x00, 0x13, 0x37]),
        new TextEncoder().encode('{"worker_id": 1000, "event": {"event_id": '),
        new TextEncoder().encode('not json at all'),
        crypto.getRandomValues(new Uint8Array(64)),
        new TextEncoder().encode('{"worker_id": "x", "event": {"event_id": -1, "dp_rank": 0, "data": {"stored": 5}}}'),
      ];
      let sent = 0;
      for (const [n, item] of items.entries()) {
        if (n % 7 === 3) {
          await pub.publishEvents(garbage[n % garbage.length]!);
          sent++;
        }
        await pub.publishEvents(item.bytes);
        sent++;
      }
      await pub.flush();
      await waitFor(() => sub.counters().messages >= sent, 5000, 'all messages');
      const truth = truthIndex(items);
      await waitFor(() => sameIndex(test.index, truth, items).equal, 5000, () => sameIndex(test.index, truth, items).detail);
      expect(test.rejected()).toBeGreaterThanOrEqual(Math.floor(items.length / 7));
      expect(sub.counters().sinkErrors).toBe(0);
    } finally {
      await sub.close();
      await pub.close();
    }
  });

  it('takes worker ids from per-worker subjects (ids with dots) and routes metrics', async () => {
    const received: { workerId: string | undefined; text: string }[] = [];
    const metrics: { workerId: string | undefined; format: string }[] = [];
    const sink = {
      ingest: (bytes: Uint8Array, meta: { workerId?: string }) => void received.push({ workerId: meta.workerId, text: new TextDecoder().decode(bytes) }),
      ingestMetrics: (_bytes: Uint8Array, meta: { workerId?: string; format: string }) => void metrics.push({ workerId: meta.workerId, format: meta.format }),
    };
    const sub = await subscribeNats(sink, { servers: server.url, namespace: 'ns', component: 'perworker', format: 'vllm', metricsFormat: 'dynamo-active-load', workerIdFrom: 'subject' });
    expect(sub.subjects.events).toBe('namespace.ns.component.perworker.kv_events.>');
    const pubs: NatsPublisher[] = [];
    try {
      for (const workerId of ['10.0.0.7:8000', 'worker-b']) {
        const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'perworker', workerId });
        pubs.push(pub);
        await pub.publishEvents(new TextEncoder().encode(`hello from ${workerId}`));
        pub.publishMetrics(new TextEncoder().encode('{}'));
        await pub.flush();
      }
      await waitFor(() => received.length === 2 && metrics.length === 2, 5000, 'two events and two metrics');
      expect(received).toEqual([
        { workerId: '10.0.0.7:8000', text: 'hello from 10.0.0.7:8000' },
        { workerId: 'worker-b', text: 'hello from worker-b' },
      ]);
      expect(metrics).toEqual([
        { workerId: '10.0.0.7:8000', format: 'dynamo-active-load' },
        { workerId: 'worker-b', format: 'dynamo-active-load' },
      ]);
    } finally {
      await sub.close();
      for (const p of pubs) await p.close();
    }
  });

  it('resync: multi-chunk dumps apply in order, responder errors and missing responders fail cleanly', async () => {
    const got: string[] = [];
    const sink = { ingest: (bytes: Uint8Array, meta: { transport?: string; workerId?: string }) => void got.push(`${meta.transport}:${meta.workerId}:${new TextDecoder().decode(bytes)}`) };
    const sub = await subscribeNats(sink, { servers: server.url, namespace: 'ns', component: 'resync', format: 'dynamo-json', resyncTimeoutMs: 1000, resyncAttempts: 2 });
    // No responder yet: fails after the attempts, applies nothing.
    expect(await sub.resync({ workerId: 'w1' })).toBe(false);
    expect(sub.counters().resyncFailures).toBe(1);
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component: 'resync' });
    const enc = new TextEncoder();
    const responder = serveResync(pub.connection, 'namespace.ns.component.resync.kv_resync', ({ workerId, dpRank }) => {
      if (workerId === 'bad') throw new Error('no such worker');
      return [enc.encode(`a-${workerId}-${dpRank}`), enc.encode(`b-${workerId}`), enc.encode(`c-${workerId}`)];
    });
    try {
      await pub.flush();
      expect(await sub.resync({ workerId: 'w2', dpRank: 1 })).toBe(true);
      expect(got).toEqual(['nats-resync:w2:a-w2-1', 'nats-resync:w2:b-w2', 'nats-resync:w2:c-w2']);
      expect(await sub.resync({ workerId: 'bad' })).toBe(false);
      expect(got.length).toBe(3);
      expect(responder.answered).toBe(1);
    } finally {
      await responder.close();
      await sub.close();
      await pub.close();
    }
  });

  it('publishes normalized events as Dynamo RouterEvents (json and msgpack) that the ingestor applies', async () => {
    for (const format of ['dynamo-json', 'dynamo-msgpack'] as const) {
      const test = await createTestSink();
      const component = `encode_${format.replace('-', '_')}`;
      const sub = await subscribeNats(test.sink, { servers: server.url, namespace: 'ns', component, format, resyncSubject: false });
      const pub = await createNatsPublisher({ servers: server.url, namespace: 'ns', component, format });
      try {
        const big = (1n << 64n) - 5n; // above 2^53 and 2^63: must travel exactly
        await pub.publishEvents([{ type: 'stored', workerId: '42', eventId: 0, parentHash: null, blocks: [{ blockHash: big, tokensHash: big - 1n }, { blockHash: 7n, tokensHash: 8n }] }]);
        await pub.publishEvents([{ type: 'removed', workerId: '42', eventId: 1, blockHashes: [7n] }]);
        await pub.flush();
        await waitFor(() => sub.counters().messages === 2 && test.index.blockCount('42') === 1, 5000, () => `${format}: 2 messages and 1 block, got ${test.index.blockCount('42')}`);
        expect(test.index.findMatches([big - 1n, 8n]).get('42')).toBe(1);
      } finally {
        await sub.close();
        await pub.close();
      }
    }
  });

  it('rejects bad arguments with TypeErrors', async () => {
    await expect(subscribeNats({} as never, { servers: server.url, namespace: 'ns', component: 'x', format: 'vllm' })).rejects.toThrow(TypeError);
    await expect(subscribeNats({ ingest() {} }, { servers: server.url, format: 'vllm' })).rejects.toThrow(/namespace/);
    await expect(subscribeNats({ ingest() {} }, { servers: server.url, namespace: 'a.b', component: 'x', format: 'vllm' })).rejects.toThrow(TypeError);
    await expect(subscribeNats({ ingest() {} }, { namespace: 'a', component: 'x', format: 'vllm' })).rejects.toThrow(/servers/);
    await expect(createNatsPublisher({ servers: server.url, namespace: 'a', component: 'x', workerId: 'a..b' })).rejects.toThrow(TypeError);
  });
});
