/**
 * Quick local measurements of RadixIndex (not the official harness, see bench/run.ts): a seeded
 * fleet-like workload (system prompts held by ~90% of workers, tenant branches, shared and private
 * conversations, private tails), then memory per entry, stored/removed blocks per second,
 * findMatches latency and snapshot/restore time, optionally against the reference.
 *
 *   node --expose-gc build/bench/radix-scratch.js [W] [C] [--ref]
 */
import { RadixIndex } from '../src/radix/index.js';
import type { KvEvent, StoredBlock } from '../src/radix/types.js';
import { ReferenceIndex } from '../test/reference/index.js';

interface Segment {
  parent: number;
  len: number;
  tok: BigUint64Array;
  name: BigUint64Array;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function buildWorkload(W: number, C: number, seed: number) {
  const r = rng(seed);
  const u64 = (): bigint => (BigInt(Math.floor(r() * 4294967296)) << 32n) | BigInt(Math.floor(r() * 4294967296));
  const segs: Segment[] = [];
  const seg = (parent: number, len: number): number => {
    const tok = new BigUint64Array(len);
    const name = new BigUint64Array(len);
    for (let i = 0; i < len; i++) {
      tok[i] = u64();
      name[i] = u64();
    }
    segs.push({ parent, len, tok, name });
    return segs.length - 1;
  };
  const sys = [2000, 1000, 500, 100].map((len) => seg(-1, len));
  const tenants = Array.from({ length: 64 }, () => seg(sys[Math.floor(r() * sys.length)]!, 100 + Math.floor(r() * 300)));
  const convos: number[] = [];
  // Per worker: ordered list of [segment, blocks held] (parents before children).
  const workers: Array<Array<[number, number]>> = [];
  for (let w = 0; w < W; w++) {
    const held = new Map<number, number>();
    const order: Array<[number, number]> = [];
    let count = 0;
    const take = (s: number): boolean => {
      const chain: number[] = [];
      for (let x = s; x >= 0 && !held.has(x); x = segs[x]!.parent) chain.push(x);
      for (let i = chain.length - 1; i >= 0; i--) {
        const x = chain[i]!;
        const n = Math.min(segs[x]!.len, C - count);
        if (n <= 0) return false;
        held.set(x, n);
        order.push([x, n]);
        count += n;
        if (n < segs[x]!.len) return false;
      }
      return count < C;
    };
    for (const s of sys) if (r() < 0.9) take(s);
    for (;;) {
      let c: number;
      if (convos.length > 0 && r() < 0.4) c = convos[Math.floor(r() * convos.length)]!;
      else {
        c = seg(tenants[Math.floor(r() * tenants.length)]!, 20 + Math.floor(r() * 280));
        convos.push(c);
      }
      if (!take(c)) break;
      if (!take(seg(c, 5 + Math.floor(r() * 45)))) break;
    }
    workers.push(order);
  }
  return { segs, workers };
}

/** With `--per-worker-names`, every worker names blocks its own way (vLLM with a random hash seed per process). */
const PER_WORKER_NAMES = process.argv.includes('--per-worker-names');
const salt = (w: number): bigint => (PER_WORKER_NAMES ? BigInt(w + 1) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn : 0n);

function storedEvents(wl: ReturnType<typeof buildWorkload>, w: number): KvEvent[] {
  const out: KvEvent[] = [];
  for (const [s, n] of wl.workers[w]!) {
    const sg = wl.segs[s]!;
    const blocks: StoredBlock[] = new Array(n);
    for (let i = 0; i < n; i++) blocks[i] = { blockHash: sg.name[i]! ^ salt(w), tokensHash: sg.tok[i]! };
    const parent = sg.parent >= 0 ? wl.segs[sg.parent]!.name[wl.segs[sg.parent]!.len - 1]! ^ salt(w) : null;
    out.push({ type: 'stored', workerId: `10.0.${w >> 8}.${w & 255}:8000`, parentHash: parent, blocks });
  }
  return out;
}

/** Removal of the last `frac` of each worker's segments, leaves first (LRU-like). */
function removedEvents(wl: ReturnType<typeof buildWorkload>, w: number, frac: number): KvEvent[] {
  const order = wl.workers[w]!;
  const out: KvEvent[] = [];
  const from = Math.floor(order.length * (1 - frac));
  for (let k = order.length - 1; k >= from; k--) {
    const [s, n] = order[k]!;
    const sg = wl.segs[s]!;
    const hashes: bigint[] = [];
    for (let i = n - 1; i >= 0; i--) hashes.push(sg.name[i]! ^ salt(w));
    out.push({ type: 'removed', workerId: `10.0.${w >> 8}.${w & 255}:8000`, blockHashes: hashes });
  }
  return out;
}

function queries(wl: ReturnType<typeof buildWorkload>, n: number, len: number, seed: number): BigUint64Array[] {
  const r = rng(seed);
  const out: BigUint64Array[] = [];
  while (out.length < n) {
    const w = Math.floor(r() * wl.workers.length);
    const order = wl.workers[w]!;
    const [s0] = order[Math.floor(r() * order.length)]!;
    const chain: number[] = [];
    for (let x = s0; x >= 0; x = wl.segs[x]!.parent) chain.push(x);
    const q = new BigUint64Array(len);
    let k = 0;
    for (let i = chain.length - 1; i >= 0 && k < len; i--) {
      const sg = wl.segs[chain[i]!]!;
      for (let j = 0; j < sg.len && k < len; j++) q[k++] = sg.tok[j]!;
    }
    for (; k < len; k++) q[k] = BigInt(Math.floor(r() * 2 ** 32)) * 4294967296n + BigInt(k);
    out.push(q);
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
function mem(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

type Index = RadixIndex | ReferenceIndex;

function run(name: string, make: () => Index, wl: ReturnType<typeof buildWorkload>, W: number): Record<string, number> {
  const base = mem();
  let index = make();
  let storeMs = 0;
  let storeCpu = 0;
  let stored = 0;
  for (let w = 0; w < W; w++) {
    const evs = storedEvents(wl, w);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const e of evs) stored += index.apply(e).applied;
    storeMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    storeCpu += (c.user + c.system) / 1000;
  }
  const entries = index.stats().entries;
  const used = mem() - base;
  const qs = queries(wl, 2000, 512, 7);
  const lat: number[] = [];
  for (let rep = 0; rep < 2; rep++) {
    for (const q of qs) {
      const t0 = performance.now();
      index.findMatches(q);
      lat.push((performance.now() - t0) * 1000);
    }
  }
  const warm = lat.slice(qs.length);
  if (index instanceof RadixIndex) latencyProbe(index, qs);
  let snapMs = 0;
  let restoreMs = 0;
  if (index instanceof RadixIndex) {
    const t0 = performance.now();
    const bytes = index.snapshot();
    snapMs = performance.now() - t0;
    const t1 = performance.now();
    index = RadixIndex.restore(bytes);
    restoreMs = performance.now() - t1;
  }
  let removeMs = 0;
  let removeCpu = 0;
  let removed = 0;
  const rem: KvEvent[][] = [];
  for (let w = 0; w < W; w++) rem.push(removedEvents(wl, w, 0.3));
  for (let w = 0; w < W; w++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const e of rem[w]!) removed += index.apply(e).applied;
    removeMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    removeCpu += (c.user + c.system) / 1000;
  }
  const out = {
    entries,
    bytesPerEntry: used / entries,
    statsBytesPerEntry: index.stats().bytes / entries,
    nodes: index.stats().nodes,
    storedPerSec: stored / (storeMs / 1000),
    removedPerSec: removed / (removeMs / 1000),
    storedPerCpuSec: stored / (storeCpu / 1000),
    removedPerCpuSec: removed / (removeCpu / 1000),
    p50us: pct(warm, 50),
    p99us: pct(warm, 99),
    snapshotMs: snapMs,
    restoreMs,
  };
  console.log(name, JSON.stringify(out, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
  return out;
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const W = Number(args[0] ?? 256);
const C = Number(args[1] ?? 32768);
const wl = buildWorkload(W, C, 42);
const radix = run('radix', () => new RadixIndex(), wl, W);
if (process.argv.includes('--ref')) {
  const ref = run('reference', () => new ReferenceIndex(), wl, W);
  console.log('ratios', {
    memory: ref.bytesPerEntry! / radix.bytesPerEntry!,
    p50: ref.p50us! / radix.p50us!,
    stored: radix.storedPerSec! / ref.storedPerSec!,
    removed: radix.removedPerSec! / ref.removedPerSec!,
  });
}

/** Latency structure check: are the slow queries slow every time (structure) or at random (noise)? */
export function latencyProbe(index: RadixIndex, qs: BigUint64Array[]): void {
  const times = qs.map(() => [] as number[]);
  for (let rep = 0; rep < 5; rep++) {
    qs.forEach((q, i) => {
      const t0 = performance.now();
      index.findMatches(q);
      times[i]!.push((performance.now() - t0) * 1000);
    });
  }
  const best = times.map((t) => Math.min(...t));
  console.log('min-of-5 per query: p50', pct(best, 50).toFixed(1), 'p99', pct(best, 99).toFixed(1), 'max', Math.max(...best).toFixed(1));
}
