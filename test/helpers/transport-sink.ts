/**
 * Test workloads and a test sink for the transport tests.
 *
 * Payloads are NVIDIA Dynamo `RouterEvent` JSON (`dynamo-json`), hashes kept below 2^53 so any
 * JSON parser reads them. The sink is the real ingestor (`createIngestor` from
 * src/events/ingestor.ts) over a ReferenceIndex when that module exists; otherwise a small stand-in
 * with the same contract for what transports rely on (event-id / seq gaps reset and resync, a
 * lower ZeroMQ seq clears the worker, resync dumps applied unchecked, garbage counted).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KvEvent, StoredEvent } from '../../src/radix/types.js';
import type { MessageMeta } from '../../src/events/types.js';
import type { MessageSink, ResyncRequest } from '../../src/events/transport-types.js';
import { ReferenceIndex } from '../reference/index.js';
import { mulberry32 as rng } from './prng.js';

/** One generated event and its wire bytes. */
export interface WorkItem {
  workerId: string;
  eventId: number;
  event: KvEvent;
  bytes: Uint8Array;
  /** Stored events: tokens hashes from the root to the event's last block. */
  path?: bigint[];
}

export { mulberry32 as rng } from './prng.js';

/** Dynamo RouterEvent JSON of one event. */
export function routerEventJson(workerId: string, eventId: number, event: KvEvent): string {
  let data: string;
  if (event.type === 'stored') {
    const blocks = event.blocks.map((b) => `{"block_hash":${b.blockHash},"tokens_hash":${b.tokensHash}}`).join(',');
    data = `{"stored":{"parent_hash":${event.parentHash ?? 'null'},"blocks":[${blocks}]}}`;
  } else if (event.type === 'removed') {
    data = `{"removed":{"block_hashes":[${event.blockHashes.join(',')}]}}`;
  } else data = '"cleared"';
  return `{"worker_id":${workerId},"event":{"event_id":${eventId},"dp_rank":${event.dpRank ?? 0},"data":${data}}}`;
}

/**
 * Stored chains (and some removals when `removals`) across `workers` numeric worker ids: each event
 * extends one of the worker's chains or starts a new one.
 */
export function makeWorkload(seed: number, workers: number, count: number, removals = false): WorkItem[] {
  const random = rng(seed);
  const enc = new TextEncoder();
  const state = Array.from({ length: workers }, (_, w) => ({ id: String(1000 + w), next: 0, tips: [] as bigint[], held: [] as bigint[], nextHash: BigInt(w + 1) * 1_000_000_000n, paths: new Map<bigint, bigint[]>() }));
  const items: WorkItem[] = [];
  for (let i = 0; i < count; i++) {
    const s = state[Math.floor(random() * workers)]!;
    let event: KvEvent;
    let lastPath: bigint[] | undefined;
    if (removals && s.held.length > 4 && random() < 0.15) {
      const victim = s.held.splice(Math.floor(random() * s.held.length), 1)[0]!;
      s.tips = s.tips.filter((t) => t !== victim);
      event = { type: 'removed', workerId: s.id, blockHashes: [victim] };
    } else {
      const extend = s.tips.length > 0 && random() < 0.7;
      const tipIndex = extend ? Math.floor(random() * s.tips.length) : -1;
      const parent = tipIndex >= 0 ? s.tips[tipIndex]! : null;
      const n = 1 + Math.floor(random() * 4);
      const blocks = [];
      const path = parent === null ? [] : [...s.paths.get(parent)!];
      for (let b = 0; b < n; b++) {
        const blockHash = s.nextHash++;
        const tokensHash = BigInt(Math.floor(random() * 2 ** 40));
        blocks.push({ blockHash, tokensHash });
        path.push(tokensHash);
        s.paths.set(blockHash, [...path]);
        s.held.push(blockHash);
      }
      lastPath = path;
      const tip = blocks[blocks.length - 1]!.blockHash;
      if (tipIndex >= 0) s.tips[tipIndex] = tip;
      else s.tips.push(tip);
      event = { type: 'stored', workerId: s.id, parentHash: parent, blocks } satisfies StoredEvent;
    }
    const eventId = s.next++;
    items.push({ workerId: s.id, eventId, event: { ...event, eventId }, bytes: enc.encode(routerEventJson(s.id, eventId, event)), ...(lastPath ? { path: lastPath } : {}) });
  }
  return items;
}

/** A reference index fed with every item: what a lossless subscriber must end with. */
export function truthIndex(items: readonly WorkItem[]): ReferenceIndex {
  const index = new ReferenceIndex();
  for (const item of items) index.apply(item.event);
  return index;
}

/** Minimal index surface the comparison needs (ReferenceIndex or RadixIndex). */
export interface ComparableIndex {
  workers(): { workerId: string; dpRank: number }[];
  blockCount?(workerId: string, dpRank?: number): number;
  findMatches(hashes: readonly bigint[] | BigUint64Array): Iterable<{ workerId: string; dpRank: number; blocks: number }>;
}

/**
 * Compares two indexes independently of insertion order: the workers, their block counts, and
 * every worker's overlap with the path of every stored event of `items`.
 */
export function sameIndex(a: ComparableIndex, b: ComparableIndex, items: readonly WorkItem[]): { equal: boolean; detail: string } {
  const counts = (x: ComparableIndex) => x.workers().map((w) => `${w.workerId}/${w.dpRank}:${x.blockCount?.(w.workerId, w.dpRank) ?? '?'}`).sort().join(' ');
  const ca = counts(a);
  const cb = counts(b);
  if (ca !== cb) return { equal: false, detail: `workers/blocks: got [${ca}] want [${cb}]` };
  const scores = (x: ComparableIndex, path: bigint[]) => [...x.findMatches(path)].map((o) => `${o.workerId}/${o.dpRank}=${o.blocks}`).sort().join(',');
  let mismatches = 0;
  let first = '';
  for (const item of items) {
    if (!item.path) continue;
    const sa = scores(a, item.path);
    const sb = scores(b, item.path);
    if (sa !== sb) {
      if (mismatches++ === 0) first = `path of event ${item.workerId}#${item.eventId}: got ${sa} want ${sb}`;
    }
  }
  return { equal: mismatches === 0, detail: mismatches === 0 ? 'equal' : `${mismatches} paths differ; first: ${first}` };
}

/** A sink plus what tests look at. */
export interface TestSink {
  sink: MessageSink;
  index: ReferenceIndex;
  /** Which implementation: the real ingestor or the stand-in. */
  kind: 'ingestor' | 'stand-in';
  /** Resync requests fired. */
  resyncs: ResyncRequest[];
  /** Messages that could not be decoded. */
  rejected(): number;
}

const ingestorPath = fileURLToPath(new URL('../../src/events/ingestor.ts', import.meta.url));

/** The real ingestor over a ReferenceIndex when available, else the stand-in. */
export async function createTestSink(options: { preferStandIn?: boolean } = {}): Promise<TestSink> {
  const index = new ReferenceIndex();
  const resyncs: ResyncRequest[] = [];
  if (!options.preferStandIn && existsSync(ingestorPath) && process.env.KVROUTER_TEST_STAND_IN !== '1') {
    const mod = (await import(pathToFileURL(ingestorPath).href)) as Record<string, unknown>;
    const hashing = (await import('../../src/hashing/index.js')) as Record<string, unknown>;
    if (typeof mod.createIngestor === 'function' && typeof hashing.createHasher === 'function') {
      const hasher = await (hashing.createHasher as (o: { blockSize: number }) => Promise<unknown>)({ blockSize: 16 });
      const ingestor = (mod.createIngestor as (t: unknown, o: unknown) => MessageSink & { counters(): Record<string, unknown> })(index, { hasher });
      ingestor.onResync?.((r: ResyncRequest) => resyncs.push(r));
      return {
        sink: ingestor,
        index,
        kind: 'ingestor',
        resyncs,
        rejected: () => sumRejected(ingestor.counters()),
      };
    }
  }
  return standIn(index, resyncs);
}

function sumRejected(counters: Record<string, unknown>): number {
  const r = counters.rejected ?? counters.decodeErrors;
  if (typeof r === 'number') return r;
  if (r && typeof r === 'object') return Object.values(r as Record<string, number>).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
  return 0;
}

function standIn(index: ReferenceIndex, resyncs: ResyncRequest[]): TestSink {
  const lastId = new Map<string, number>();
  const lastSeq = new Map<string, bigint>();
  const listeners: ((r: ResyncRequest) => void)[] = [];
  let rejected = 0;
  const dec = new TextDecoder();
  const reset = (workerId: string) => {
    index.apply({ type: 'cleared', workerId });
    lastId.delete(workerId);
    const request = { workerId, dpRank: 0 };
    resyncs.push(request);
    for (const l of listeners) l(request);
  };
  const sink: MessageSink = {
    ingest(bytes: Uint8Array, meta: MessageMeta) {
      let parsed: { worker_id: number; event: { event_id: number; dp_rank: number; data: unknown } };
      let event: KvEvent;
      try {
        parsed = JSON.parse(dec.decode(bytes));
        const workerId = meta.workerId ?? String(parsed.worker_id);
        const data = parsed.event.data as Record<string, { parent_hash?: number | null; blocks?: { block_hash: number; tokens_hash: number }[]; block_hashes?: number[] }> | string;
        if (data === 'cleared') event = { type: 'cleared', workerId };
        else if (typeof data === 'object' && data.stored?.blocks) {
          const p = data.stored.parent_hash;
          event = { type: 'stored', workerId, parentHash: p == null ? null : BigInt(p), blocks: data.stored.blocks.map((b) => ({ blockHash: BigInt(b.block_hash), tokensHash: BigInt(b.tokens_hash) })) };
        } else if (typeof data === 'object' && data.removed?.block_hashes) event = { type: 'removed', workerId, blockHashes: data.removed.block_hashes.map((h) => BigInt(h)) };
        else throw new Error('bad event');
      } catch {
        rejected++;
        return;
      }
      const workerId = event.workerId;
      if (meta.transport === 'zmq' && meta.seq !== undefined) {
        const last = lastSeq.get(workerId);
        lastSeq.set(workerId, meta.seq);
        if (last !== undefined && meta.seq <= last) index.apply({ type: 'cleared', workerId }); // engine restart
      } else if (!meta.transport?.endsWith('-resync')) {
        const id = parsed.event.event_id;
        const last = lastId.get(workerId);
        if (last !== undefined && id <= last) return; // duplicate
        lastId.set(workerId, id);
        if (last !== undefined && id > last + 1) {
          reset(workerId);
          lastId.set(workerId, id);
        }
      }
      index.apply(event);
    },
    noteTransportGap(workerId?: string) {
      const workers = workerId !== undefined ? [workerId] : [...new Set(index.workers().map((w) => w.workerId))];
      for (const w of workers) reset(w);
    },
    onResync(cb: (r: ResyncRequest) => void) {
      listeners.push(cb);
      return () => listeners.splice(listeners.indexOf(cb), 1);
    },
  };
  return { sink, index, kind: 'stand-in', resyncs, rejected: () => rejected };
}

/** Polls `check` every 20 ms until true; throws with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
