/**
 * Quick local measurement of Router#pickEndpoint against RadixIndex#findMatchesU32 alone on the
 * fleet workload (not the official harness). Same process, same index, same prompts.
 *
 *   npx tsc -p tsconfig.bench.json --outDir /tmp/kvr-bench && node /tmp/kvr-bench/bench/router-scratch.js [W] [C] [depthBlocks]
 */
import { createHasher } from '../src/hashing/index.js';
import { RadixIndex } from '../src/radix/index.js';
import { createRouter } from '../src/scoring/index.js';
import { Fleet } from './workloads/fleet.js';
import { measureLatency } from './lib/timer.js';

const W = Number(process.argv[2] ?? 256);
const C = Number(process.argv[3] ?? 8192);
const depth = Number(process.argv[4] ?? 512); // 512 blocks of 16 = 8K tokens
const B = 16;

const hasher = await createHasher({ blockSize: B });
const fleet = new Fleet({ workers: W, blocksPerWorker: C, blockSize: B, seed: 7 }, hasher);
const router = await createRouter({ blockSize: B });
const index = router.index as RadixIndex;
let t = performance.now();
for (let w = 0; w < W; w++) {
  router.addWorker({ workerId: fleet.workerId(w) });
  for (const e of fleet.storedEvents(w)) router.applyEvent(e);
}
console.log(`built W=${W} C=${C}: ${index.stats().entries} entries in ${((performance.now() - t) / 1000).toFixed(1)} s`);

const queries = fleet.queries(depth, 200, true);
const tokens = queries.map((q) => q.tokens!);
const pairs = queries.map((q) => new Uint32Array(q.hashes.buffer, q.hashes.byteOffset, q.hashes.length * 2));
const opts = { warmup: 300, iterations: 3000, maxMs: 4000 };
const n = queries.length;

// EPP-style requests name a few candidate pods out of the fleet.
const subsets = Array.from({ length: 16 }, (_, k) => Array.from({ length: 8 }, (_, j) => fleet.workerId((k * 37 + j * 29) % W)));

const rows: Array<[string, ReturnType<typeof measureLatency>]> = [];
for (let round = 0; round < 2; round++) {
  rows.length = 0;
  rows.push(['findMatchesU32 alone', measureLatency((i) => void index.findMatchesU32(pairs[i % n]!, depth), opts)]);
  rows.push([
    'hash + findMatchesU32',
    measureLatency((i) => {
      const p = hasher.blockHashesU32(tokens[i % n]!);
      index.findMatchesU32(p, p.length >>> 1);
    }, opts),
  ]);
  rows.push(['pickEndpoint', measureLatency((i) => void router.pickEndpoint({ tokens: tokens[i % n]! }), opts)]);
  rows.push([
    'pickEndpoint, 8 candidates (EPP)',
    measureLatency((i) => void router.pickEndpoint({ tokens: tokens[i % n]!, candidates: subsets[i % subsets.length]! }), opts),
  ]);
  rows.push([
    'pickEndpoint + requestId + free',
    measureLatency((i) => {
      const id = `r${i}`;
      router.pickEndpoint({ tokens: tokens[i % n]!, requestId: id });
      router.free(id);
    }, opts),
  ]);
}
const base = rows[0]![1].p50Us;
for (const [name, s] of rows) {
  console.log(`${name.padEnd(34)} p50 ${s.p50Us.toFixed(1).padStart(7)} µs  p99 ${s.p99Us.toFixed(1).padStart(7)} µs  (${(s.p50Us / base).toFixed(2)}× findMatches p50)`);
}
// Approximate mode on the same prompts: every worker without KV events, records from earlier picks.
const approx = await createRouter({ blockSize: B, kvEvents: false });
for (let w = 0; w < W; w++) approx.addWorker({ workerId: fleet.workerId(w) });
const a = measureLatency((i) => void approx.pickEndpoint({ tokens: tokens[i % n]! }), opts);
console.log(`${'approximate pickEndpoint'.padEnd(34)} p50 ${a.p50Us.toFixed(1).padStart(7)} µs  p99 ${a.p99Us.toFixed(1).padStart(7)} µs`);
const r = router.pickEndpoint({ tokens: tokens[0]! });
if (r.ok) console.log(`sample pick: ${r.workerId} overlap ${r.overlapBlocks}/${r.promptBlocks}, ${r.candidates.length} candidates`);
