import type { NatsConnection } from 'nats';
import type { NatsPublisher, NatsSubscription } from '../events/nats.js';
import { createIngestor, encodeMetrics } from '../events/index.js';
import type { LoadMetrics } from '../events/types.js';
import { createHasher } from '../hashing/index.js';
import { createRouter } from '../scoring/index.js';
import type { EngineSink } from './engine.js';
import type { RoutingPolicy } from './policies.js';
import { Rng } from './rng.js';
import type { PolicyContext } from './simulate.js';
import type { SimRequest } from './workload.js';

/** NATS subjects the simulated fleet publishes on (per worker: `<base>.<workerId>`). */
const SIM_SUBJECTS = { eventsSubject: 'kvrouter.sim.kv_events', metricsSubject: 'kvrouter.sim.kv_metrics', resyncSubject: false } as const;

/**
 * The router as a simulator policy: `kv` reads the engines' KV events (vLLM msgpack batches
 * through the real decoder and ingestor, in-process or over NATS) and pushed load; `approx` runs
 * the router with `kvEvents: false` (it remembers what it routed) and the same pushed load.
 * The router's clock is the simulated clock, its random source seeded.
 * @internal
 */
export async function routerPolicy(name: string, ctx: PolicyContext, kvEvents: boolean): Promise<RoutingPolicy> {
  const rng = new Rng(ctx.seed ^ 0x7a11);
  const router = await createRouter({
    blockSize: ctx.blockSize,
    kvEvents,
    random: () => rng.next(),
    now: () => ctx.clock.now,
  });
  const ids = ctx.fleet.workerIds;
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    router.addWorker({ workerId: id });
    index.set(id, i);
  });
  const hasher = await createHasher({ blockSize: ctx.blockSize });
  const ingestor = createIngestor(router, { hasher, now: () => ctx.clock.now });
  let pickFailures = 0;
  let batches = 0;
  let batchBytes = 0;
  let metricsMessages = 0;

  let sink: EngineSink;
  let sync: (() => Promise<void>) | undefined;
  let close: () => Promise<void> = async () => {};
  const seqs = new Map<string, bigint>();
  const nextSeq = (workerId: string): bigint => {
    const s = seqs.get(workerId) ?? 0n;
    seqs.set(workerId, s + 1n);
    return s;
  };

  if (ctx.natsUrl === undefined) {
    sink = {
      ...(kvEvents
        ? {
            events(bytes: Uint8Array, workerId: string, dpRank: number): void {
              batches++;
              batchBytes += bytes.length;
              ingestor.ingest(bytes, { format: 'vllm', workerId, dpRank, seq: nextSeq(workerId), transport: 'inproc' });
            },
          }
        : {}),
      load(workerId: string, dpRank: number, metrics: LoadMetrics): void {
        metricsMessages++;
        router.updateLoad(workerId, dpRank, metrics);
      },
    };
  } else {
    const nats = await connectNats(ctx.natsUrl, ingestor);
    const { publisher, subscription } = nats;
    let published = 0;
    let pending: Promise<unknown>[] = [];
    sink = {
      ...(kvEvents
        ? {
            events(bytes: Uint8Array, workerId: string): void {
              batches++;
              batchBytes += bytes.length;
              published++;
              pending.push(publisher.publishEvents(bytes, { workerId }));
            },
          }
        : {}),
      load(workerId: string, dpRank: number, metrics: LoadMetrics): void {
        metricsMessages++;
        published++;
        publisher.publishMetrics(encodeMetrics(metrics, { format: 'dynamo-fpm', workerId, dpRank }), { workerId });
      },
    };
    sync = async (): Promise<void> => {
      const received = (): number => {
        const c = subscription.counters();
        return c.messages + c.metrics;
      };
      if (received() >= published) return;
      await Promise.all(pending);
      pending = [];
      await publisher.flush();
      const deadline = Date.now() + 10_000;
      while (received() < published) {
        if (Date.now() > deadline) throw new Error(`NATS: ${published - received()} published messages never arrived`);
        await new Promise((r) => setImmediate(r));
      }
    };
    close = nats.close;
  }

  return {
    name,
    sink,
    needsTokens: true,
    ...(sync !== undefined ? { sync } : {}),
    pick(request: SimRequest, tokens: Uint32Array): number {
      const result = router.pickEndpoint({ tokens, requestId: String(request.index) });
      if (result.ok) return index.get(result.workerId)!;
      pickFailures++;
      return request.index % ids.length;
    },
    prefillDone(request: SimRequest): void {
      router.markPrefillComplete(String(request.index));
    },
    completed(request: SimRequest): void {
      router.free(String(request.index));
    },
    counters(): Record<string, number> {
      const c = ingestor.counters();
      let rejected = 0;
      for (const v of Object.values(c.rejected)) rejected += v ?? 0;
      return {
        eventBatches: batches,
        eventBytes: batchBytes,
        eventsApplied: c.applied,
        eventsRejected: rejected,
        ingestGaps: c.gaps,
        metricsMessages,
        pickFailures,
      };
    },
    close,
  };
}

async function connectNats(url: string, ingestor: ReturnType<typeof createIngestor>): Promise<NatsParts> {
  // Loaded only for --nats, so importing the library does not load the NATS client.
  const { connect } = await import('nats');
  const { createNatsPublisher, subscribeNats } = await import('../events/nats.js');
  // Our own connections, so an unreachable server fails the run at once instead of retrying forever.
  let routerConn: NatsConnection;
  try {
    routerConn = await connect({ servers: url, name: 'kvrouter-sim-router', timeout: 5000 });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let engineConn: NatsConnection | undefined;
  try {
    engineConn = await connect({ servers: url, name: 'kvrouter-sim-engines', timeout: 5000 });
    const subscription = await subscribeNats(ingestor, {
      connection: routerConn,
      format: 'vllm',
      metricsFormat: 'dynamo-fpm',
      workerIdFrom: 'subject',
      ...SIM_SUBJECTS,
    });
    const publisher = await createNatsPublisher({ connection: engineConn, ...SIM_SUBJECTS });
    const close = async (): Promise<void> => {
      await subscription.close();
      await publisher.close();
      await engineConn!.drain().catch(() => undefined);
      await routerConn.drain().catch(() => undefined);
    };
    return { publisher, subscription, close };
  } catch (error) {
    await engineConn?.close().catch(() => undefined);
    await routerConn.close().catch(() => undefined);
    throw error;
  }
}

interface NatsParts {
  publisher: NatsPublisher;
  subscription: NatsSubscription;
  close(): Promise<void>;
}
