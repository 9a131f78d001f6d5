/**
 * End-to-end KV event throughput over NATS on loopback: publisher → nats-server → subscribeNats →
 * ingestor (decode) → RadixIndex.apply, in blocks per second. The same messages decoded and applied
 * in-process (no NATS) in the same run give the ceiling the transport is compared with.
 *
 *   npx tsc -p tsconfig.bench.json && node build/bench/nats-throughput.js [--messages N] [--format vllm|dynamo-msgpack]
 *     [--events E --blocks B] (per message: E stored events of B blocks) [--sink noop] (transport only)
 *
 * Starts its own nats-server (NATS_SERVER_BIN or /usr/sbin/nats-server) on a free port, or uses
 * NATS_URL. Target (issue 4): ≥ 300K blocks/s end to end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { createHasher } from '../src/hashing/index.js';
import { RadixIndex } from '../src/radix/index.js';
import { createIngestor } from '../src/events/ingestor.js';
import { encodeDynamoEvent, encodeVllmBatch, type VllmEngineEvent } from '../src/events/encode.js';
import { createNatsPublisher, subscribeNats, type MessageSink } from '../src/events/transports.js';
import type { KvEvent } from '../src/radix/types.js';
import type { EventFormat } from '../src/events/types.js';

const BLOCK_SIZE = 16;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const messages = Number(arg('messages', '12000'));
const eventsPerMessage = Number(arg('events', '8'));
const blocksPerEvent = Number(arg('blocks', '8'));
const workers = Number(arg('workers', '64'));
const format = arg('format', 'vllm') as EventFormat;
const window = Number(arg('window', '2000'));
/** `noop`: the subscriber only counts messages (transport capacity without decode and apply). */
const sinkMode = arg('sink', 'ingest');

/** xorshift32 */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Messages of stored chains per worker (each event extends the worker's chain or starts a new one). */
async function makeMessages(): Promise<{ payloads: Uint8Array[]; blocks: number; workerOf: string[] }> {
  const hasher = await createHasher({ blockSize: BLOCK_SIZE });
  const random = rng(42);
  const tips = new Map<number, bigint | null>();
  let nextHash = 1n;
  const payloads: Uint8Array[] = [];
  const workerOf: string[] = [];
  let blocks = 0;
  const eventIds = new Map<number, number>();
  for (let m = 0; m < messages; m++) {
    const w = m % workers;
    const workerId = String(7000 + w);
    if (format === 'vllm') {
      const events: VllmEngineEvent[] = [];
      for (let e = 0; e < eventsPerMessage; e++) {
        const parent = random() < 0.8 ? (tips.get(w) ?? null) : null;
        const blockHashes = Array.from({ length: blocksPerEvent }, () => nextHash++);
        const tokenIds = Array.from({ length: blocksPerEvent * BLOCK_SIZE }, () => Math.floor(random() * 100_000));
        events.push({ type: 'BlockStored', blockHashes, parentBlockHash: parent, tokenIds, blockSize: BLOCK_SIZE });
        tips.set(w, blockHashes[blockHashes.length - 1]!);
        blocks += blocksPerEvent;
      }
      payloads.push(encodeVllmBatch(events, { style: 'positional', engineBlockSize: BLOCK_SIZE }));
    } else {
      const events: KvEvent[] = [];
      for (let e = 0; e < eventsPerMessage; e++) {
        const parent = random() < 0.8 ? (tips.get(w) ?? null) : null;
        const tokens = Uint32Array.from({ length: blocksPerEvent * BLOCK_SIZE }, () => Math.floor(random() * 100_000));
        const tokensHashes = hasher.blockHashes(tokens);
        const stored = Array.from(tokensHashes, (tokensHash) => ({ blockHash: nextHash++, tokensHash }));
        const eventId = eventIds.get(w) ?? 0;
        eventIds.set(w, eventId + 1);
        events.push({ type: 'stored', workerId, eventId, parentHash: parent, blocks: stored });
        tips.set(w, stored[stored.length - 1]!.blockHash);
        blocks += blocksPerEvent;
      }
      payloads.push(encodeDynamoEvent(events, format === 'dynamo-json' ? 'json' : 'msgpack'));
    }
    workerOf.push(workerId);
  }
  return { payloads, blocks, workerOf };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startServer(): Promise<{ url: string; version: string; stop: () => void }> {
  if (process.env.NATS_URL && !process.env.NATS_SERVER_BIN) return { url: process.env.NATS_URL, version: 'external (NATS_URL)', stop: () => undefined };
  const bin = [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => p && existsSync(p));
  if (!bin) throw new Error('no nats-server binary (set NATS_SERVER_BIN) and no NATS_URL');
  const version = spawnSync(bin, ['--version']).stdout.toString().trim();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kvrouter-bench-nats-'));
  const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!log.includes('Server is ready')) {
    if (Date.now() > deadline) throw new Error(`nats-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `nats://127.0.0.1:${port}`, version, stop: () => (child.kill('SIGKILL'), rmSync(dir, { recursive: true, force: true })) };
}

async function main(): Promise<void> {
  const { payloads, blocks, workerOf } = await makeMessages();
  const bytes = payloads.reduce((a, p) => a + p.length, 0);
  const hasher = await createHasher({ blockSize: BLOCK_SIZE });
  const meta = (i: number) => (format === 'vllm' ? { format, workerId: workerOf[i]!, transport: 'nats' } : { format, transport: 'nats' });

  // In-process ceiling: the same decode + apply without a transport.
  const local = createIngestor(new RadixIndex(), { hasher });
  let t0 = performance.now();
  for (let i = 0; i < payloads.length; i++) local.ingest(payloads[i]!, meta(i));
  const localMs = performance.now() - t0;

  const server = await startServer();
  try {
    const index = new RadixIndex();
    const ingestor = createIngestor(index, { hasher });
    let received = 0;
    const sink: MessageSink = {
      ingest(b, m) {
        received++;
        return sinkMode === 'noop' ? undefined : ingestor.ingest(b, m);
      },
    };
    const sub = await subscribeNats(sink, {
      servers: server.url,
      namespace: 'bench',
      component: 'kv',
      format,
      workerIdFrom: format === 'vllm' ? 'subject' : 'payload',
      resyncSubject: false,
      metricsSubject: false,
    });
    const pub = await createNatsPublisher({ servers: server.url, namespace: 'bench', component: 'kv' });
    await pub.flush();
    t0 = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      void pub.publishEvents(payloads[i]!, format === 'vllm' ? { workerId: workerOf[i]! } : {});
      // Bounded in flight: a real fleet does not dump its whole history at once.
      if (i % 500 === 499) {
        await pub.flush();
        while (i + 1 - received > window) await new Promise((r) => setImmediate(r));
      }
    }
    await pub.flush();
    while (received < payloads.length) await new Promise((r) => setTimeout(r, 1));
    const natsMs = performance.now() - t0;
    const counters = ingestor.counters() as unknown as Record<string, unknown>;
    await sub.close();
    await pub.close();

    const result = {
      bench: 'nats-throughput',
      natsServer: server.version,
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      format,
      sink: sinkMode,
      messages: payloads.length,
      blocks,
      blocksPerMessage: eventsPerMessage * blocksPerEvent,
      payloadBytes: bytes,
      inProcess: { ms: round(localMs), blocksPerSec: Math.round((blocks / localMs) * 1000) },
      nats: { ms: round(natsMs), blocksPerSec: Math.round((blocks / natsMs) * 1000), mbPerSec: round(bytes / 1e6 / (natsMs / 1000)) },
      natsVsInProcess: round(localMs / natsMs),
      indexEntries: index.stats().entries,
      ingestorApplied: counters.applied ?? counters.events,
      targetBlocksPerSec: 300_000,
    };
    console.log(JSON.stringify(result, null, 2));
    if (sinkMode !== 'noop' && index.stats().entries !== blocks) console.error(`WARNING: index holds ${index.stats().entries} entries, expected ${blocks}`);
  } finally {
    server.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
