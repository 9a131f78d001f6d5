import { parseArgs } from 'node:util';
import { POLICY_NAMES, type PolicyName } from '../sim/index.js';

/** A command line the CLI cannot run: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options of `kvrouter simulate`, parsed and validated. */
export interface SimulateArgs {
  help: boolean;
  trace: string | undefined;
  requests: number | undefined;
  workers: number;
  capacity: number | undefined;
  blockSize: number;
  rate: number | undefined;
  speedup: number | undefined;
  policies: PolicyName[];
  seed: number;
  nats: string | undefined;
  json: string | undefined;
  html: string | undefined;
  prefillRate: number;
  decodeMs: number;
  batchLimit: number;
  quiet: boolean;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  trace: { type: 'string' },
  requests: { type: 'string' },
  workers: { type: 'string' },
  capacity: { type: 'string' },
  'block-size': { type: 'string' },
  rate: { type: 'string' },
  speedup: { type: 'string' },
  policies: { type: 'string' },
  seed: { type: 'string' },
  nats: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  'prefill-rate': { type: 'string' },
  'decode-ms': { type: 'string' },
  'batch-limit': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** Parses the arguments after `simulate`; throws {@link UsageError} with a one-line message. */
export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  // `--rate -3`: node:util takes "-3" for an option; join it so the value check names the problem.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    ({ values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (error) {
    throw new UsageError(oneLine(error instanceof Error ? error.message : String(error)));
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]!}'`);
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const int = (k: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v.trim()) || Number(v) < min || Number(v) > max) {
      throw new UsageError(`--${k} expects an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` in [${min}, ${max}]`}, got '${v}'`);
    }
    return Number(v);
  };
  const num = (k: string, min: number, inclusive: boolean): number | undefined => {
    const v = str(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (inclusive ? n < min : n <= min)) {
      throw new UsageError(`--${k} expects a number ${inclusive ? '>=' : '>'} ${min}, got '${v}'`);
    }
    return n;
  };
  const nonEmpty = (k: string): string | undefined => {
    const v = str(k);
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${k} expects a value, got an empty string`);
    return v;
  };

  const rate = num('rate', 0, false);
  const speedup = num('speedup', 0, false);
  if (rate !== undefined && speedup !== undefined) throw new UsageError('--rate and --speedup are mutually exclusive');
  let policies: PolicyName[] = [...POLICY_NAMES];
  const p = str('policies');
  if (p !== undefined) {
    const names = p.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (names.length === 0) throw new UsageError(`--policies expects a comma-separated list of ${POLICY_NAMES.join(', ')}`);
    for (const n of names) {
      if (!(POLICY_NAMES as readonly string[]).includes(n)) throw new UsageError(`--policies: unknown policy '${n}' (expected ${POLICY_NAMES.join(', ')})`);
    }
    policies = [...new Set(names)] as PolicyName[];
  }
  const nats = nonEmpty('nats');
  if (nats !== undefined && !/^(nats|tls|ws|wss):\/\/[^\s]+$|^[\w.-]+:\d+$/.test(nats)) {
    throw new UsageError(`--nats expects a server URL such as nats://127.0.0.1:4222, got '${nats}'`);
  }
  return {
    help: values['help'] === true,
    trace: nonEmpty('trace'),
    requests: int('requests', 1),
    workers: int('workers', 1, 4096) ?? 16,
    capacity: int('capacity', 1, 1 << 26),
    blockSize: int('block-size', 1, 4096) ?? 16,
    rate,
    speedup,
    policies,
    seed: int('seed', 0, 2 ** 32 - 1) ?? 1,
    nats,
    json: nonEmpty('json'),
    html: nonEmpty('html'),
    prefillRate: num('prefill-rate', 0, false) ?? 16_000,
    decodeMs: num('decode-ms', 0, true) ?? 20,
    batchLimit: int('batch-limit', 1, 1 << 20) ?? 64,
    quiet: values['quiet'] === true,
  };
}

function oneLine(s: string): string {
  // node:util's messages run on with advice about '--'; keep the first sentence.
  return s.split('\n')[0]!.replace(/^TypeError \[[A-Z_]+\]: /, '').split('. To specify')[0]!.replace(/\.$/, '');
}
