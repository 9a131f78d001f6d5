/**
 * The simulated fleet over a real NATS server: engines publish vLLM event batches and load
 * metrics, the router subscribes; the run must equal the in-process one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate, syntheticWorkload, type SimReport } from '../src/sim/index.js';
import { natsAvailability, NatsServer } from './helpers/nats-server.js';

const availability = natsAvailability(false);
const suite = availability.kind === 'none' ? describe.skip : describe;

suite('simulate --nats (real nats-server)', () => {
  let server: NatsServer | undefined;
  let url = '';
  beforeAll(async () => {
    if (availability.kind === 'binary') {
      server = await NatsServer.start(availability.binary);
      url = server.url;
    } else if (availability.kind === 'url') url = availability.url;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gives the same report as in-process event delivery', async () => {
    const run = (natsUrl?: string): Promise<SimReport> =>
      simulate({
        workload: syntheticWorkload({ seed: 4, requests: 250, rate: 30 }),
        workers: 4,
        capacityBlocks: 1024,
        seed: 4,
        policies: ['kv'],
        ...(natsUrl !== undefined ? { natsUrl } : {}),
      });
    const viaNats = await run(url);
    const inproc = await run();
    expect(viaNats.config.transport).toBe('nats');
    const strip = (r: SimReport) => r.policies.map((p) => ({ ...p, wallMs: 0, pickUs: null }));
    expect(strip(viaNats)).toEqual(strip(inproc));
    const kv = viaNats.policies[0]!;
    expect(kv.counters['eventsApplied']).toBeGreaterThan(100);
    expect(kv.counters['eventsRejected']).toBe(0);
  }, 120_000);

  it('fails with a clear error when the server is unreachable', async () => {
    await expect(
      simulate({ workload: syntheticWorkload({ requests: 20 }), workers: 2, policies: ['kv'], natsUrl: 'nats://127.0.0.1:1' }),
    ).rejects.toThrow(/^cannot connect to NATS at nats:\/\/127.0.0.1:1: /);
  }, 30_000);
});
