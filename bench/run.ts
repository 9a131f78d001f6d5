/**
 * The benchmark harness. `npm run bench -- [--profile ci|quick|full] [--json FILE]
 * [--check bench/thresholds.json] [--trace PATH] [--only hash,fleet,router,events,replay]`.
 * See bench/README.md for the figures and the JSON schema.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvertedIndex } from './baselines/inverted.js';
import { NaiveIndex } from './baselines/naive.js';
import type { IndexKind } from './baselines/types.js';
import { hasherCache, type BenchContext } from './lib/context.js';
import { collectEnv } from './lib/env.js';
import { loadRadixIndex, loadReferenceIndex, type IndexClass } from './lib/modules.js';
import { PROFILES, type FleetSize, type Profile } from './lib/profiles.js';
import { progress } from './lib/progress.js';
import { Results, checkThresholds, readThresholds } from './lib/results.js';
import { fullGc } from './lib/timer.js';
import { runEventsSuite } from './suites/events.js';
import { runFleetSuite } from './suites/fleet.js';
import { runHashSuite } from './suites/hash.js';
import { runReplaySuite } from './suites/replay.js';
import { runRouterSuite } from './suites/router.js';

const SUITES = ['hash', 'fleet', 'router', 'events', 'replay'] as const;
type Suite = (typeof SUITES)[number];

interface Args {
  profile: Profile['name'];
  json?: string;
  check?: string;
  trace: string;
  only: Set<Suite>;
  impls: Set<string>;
  /** Fleet sizes replacing the profile's (`--fleet`). */
  fleets?: FleetSize[];
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: run.js [--profile ci|quick|full] [--json FILE] [--check THRESHOLDS] [--trace PATH] [--only ${SUITES.join(',')}] [--impls ours,reference,naive,inverted] [--fleet WxCxB[,WxCxB…]]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const repo = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('../../package.json', import.meta.url))) ? '../../' : '../', import.meta.url));
  const args: Args = { profile: 'quick', trace: `${repo}../shared/data/mooncake_conversation_trace.jsonl`, only: new Set(SUITES), impls: new Set(['ours', 'reference', 'naive', 'inverted']) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === '--profile') {
      const p = val();
      if (!(p in PROFILES)) usage(`unknown profile ${p}`);
      args.profile = p as Profile['name'];
    } else if (a === '--json') args.json = val();
    else if (a === '--check') args.check = val();
    else if (a === '--trace') args.trace = val();
    else if (a === '--only') {
      const list = val().split(',');
      for (const s of list) if (!(SUITES as readonly string[]).includes(s)) usage(`unknown suite ${s}`);
      args.only = new Set(list as Suite[]);
    } else if (a === '--impls') {
      const list = val().split(',');
      for (const s of list) if (!['ours', 'reference', 'naive', 'inverted'].includes(s)) usage(`unknown implementation ${s}`);
      args.impls = new Set(list);
    } else if (a === '--fleet') {
      args.fleets = val().split(',').map((spec) => {
        const m = /^(\d+)x(\d+)x(\d+)$/.exec(spec);
        if (m === null) usage(`--fleet wants WORKERSxBLOCKSxBLOCKSIZE, e.g. 256x32768x16; got ${spec}`);
        return { workers: Number(m[1]), blocksPerWorker: Number(m[2]), blockSize: Number(m[3]) };
      });
    } else usage(`unknown argument ${a}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // --fleet replaces the profile's fleet sizes (the first is the primary one, as in the profiles).
  const profile = args.fleets === undefined ? PROFILES[args.profile] : { ...PROFILES[args.profile], fleets: args.fleets };
  const started = process.hrtime.bigint();
  const env = collectEnv(profile.name, process.argv.slice(2));
  if (!env.gcExposed) progress('warning: run node with --expose-gc (npm run bench does) or bytesPerEntry is not measured');
  const thresholds = args.check !== undefined ? readThresholds(args.check) : undefined;
  const getHasher = hasherCache();

  const kinds: IndexKind[] = [];
  const missing: BenchContext['missing'] = {};
  const radix = await loadRadixIndex();
  if (radix.ok) {
    const C = radix.value;
    const kind: IndexKind = { impl: 'ours', label: 'RadixIndex', create: () => new C(), createSized: (initialBlocks, initialNodes) => new C({ initialBlocks, initialNodes }), useU32: true };
    if (typeof C.restore === 'function') kind.restore = (b) => C.restore!(b);
    kinds.push(kind);
  } else missing.ours = `RadixIndex: ${radix.reason}`;
  const reference = await loadReferenceIndex();
  let Reference: IndexClass | undefined;
  if (reference.ok) {
    const C = (Reference = reference.value);
    const kind: IndexKind = { impl: 'reference', label: 'ReferenceIndex', create: () => new C(), useU32: false };
    if (typeof C.restore === 'function') kind.restore = (b) => C.restore!(b);
    kinds.push(kind);
  } else missing.reference = reference.reason;
  const h16 = await getHasher(16);
  kinds.push({ impl: 'naive', label: 'naive (per-worker Map<seqHash>)', create: () => new NaiveIndex(h16), useU32: false });
  kinds.push({ impl: 'inverted', label: 'inverted (Map<seqHash, workers>)', create: () => new InvertedIndex(h16), useU32: false });
  for (const [impl, why] of Object.entries(missing)) progress(`not available: ${impl}: ${why}`);
  for (let i = kinds.length - 1; i >= 0; i--) if (!args.impls.has(kinds[i]!.impl)) kinds.splice(i, 1);
  if (!args.impls.has('ours') && missing.ours === undefined) missing.ours = 'not selected (--impls)';

  const results = new Results();
  const ctx: BenchContext = { profile, results, warnings: [], kinds, missing, hasher: getHasher };
  progress(`profile ${profile.name}: ${env.cpu}, ${env.cores} cores, node ${env.node}, ${env.totalMemGiB} GiB, THP ${env.transparentHugePages ?? '?'}, GLIBC_TUNABLES ${env.glibcTunables ?? '(unset)'}`);

  if (args.only.has('hash')) await runHashSuite(ctx);
  for (const [i, size] of profile.fleets.entries()) {
    if (!args.only.has('fleet') && !(i === 0 && (args.only.has('router') || args.only.has('events')))) continue;
    // The baselines key sequence hashes with a B-independent chain; use a hasher of the fleet's block size anyway.
    const h = await getHasher(size.blockSize);
    ctx.kinds = kinds.map((k) =>
      k.impl === 'naive' ? { ...k, create: () => new NaiveIndex(h) } : k.impl === 'inverted' ? { ...k, create: () => new InvertedIndex(h) } : k,
    );
    const runFleet = args.only.has('fleet');
    const saved = ctx.kinds;
    if (!runFleet) ctx.kinds = [];
    const fleetRun = await runFleetSuite(ctx, size);
    ctx.kinds = saved;
    fullGc();
    if (i === 0 && args.only.has('router')) {
      await runRouterSuite(ctx, fleetRun.fleet, fleetRun.baselineFleet, fleetRun.queries, fleetRun.baselineQueries, fleetRun.ours?.latency, args.impls.has('reference') ? Reference : undefined);
      fullGc();
    }
    if (i === 0 && args.only.has('events')) {
      await runEventsSuite(ctx, fleetRun.fleet);
      fullGc();
    }
  }
  ctx.kinds = kinds;
  if (args.only.has('replay')) {
    if (existsSync(args.trace)) await runReplaySuite(ctx, args.trace);
    else {
      ctx.warnings.push(`Mooncake trace not found at ${args.trace} (use --trace PATH)`);
      results.add({ name: 'replay.mooncake.opsPerSec', unit: 'ops/s', better: 'higher', values: {}, skipped: `trace not found: ${args.trace}` });
    }
  }

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`\nkvrouter benchmarks — profile ${profile.name}, ${env.cpu} (${env.cores} cores), node ${env.node}, ${env.totalMemGiB} GiB, ${seconds.toFixed(0)} s\n`);
  process.stdout.write('ratio = times better than the reference (or the named baseline); > 1: ours wins\n\n');
  process.stdout.write(results.table() + '\n');
  if (ctx.warnings.length > 0) process.stdout.write(`\nwarnings:\n${ctx.warnings.map((w) => `  ${w}`).join('\n')}\n`);
  if (args.json !== undefined) {
    results.writeJson(args.json, { ...env, durationS: Math.round(seconds), warnings: ctx.warnings } as typeof env);
    progress(`wrote ${args.json}`);
  }
  if (thresholds !== undefined) {
    const outcome = checkThresholds(results.rows, thresholds);
    process.stdout.write(`\nthreshold check (${args.check}):\n${outcome.lines.map((l) => `  ${l}`).join('\n')}\n`);
    if (!outcome.ok) {
      process.stdout.write('\nbench check FAILED: a ratio to its same-run baseline fell below the floor in bench/thresholds.json\n');
      process.exitCode = 1;
    } else process.stdout.write('bench check passed\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
