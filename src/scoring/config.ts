import { z } from 'zod';
import type { Filter, Picker, Scorer } from './plugins.js';

/**
 * Router configuration: a zod schema whose defaults equal NVIDIA Dynamo's KV router
 * (overlap credit 1.0, prefill load scale 1.0, host 0.75, disk 0.25, temperature 0,
 * approximate TTL 120 s, block size 16).
 *
 * Parse with {@link parseRouterConfig} (or let {@link createRouter} do it); a bad value throws a
 * {@link RouterConfigError} whose message is zod's, naming the field.
 */

const nonNegative = z.number().finite().nonnegative();
const positiveMs = z.number().finite().positive();
const fn = <T extends (...args: never[]) => unknown>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `expected ${what}` });

function isPlugin(method: string): (v: unknown) => boolean {
  return (v) =>
    v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)[method] === 'function';
}

/** The default clock (`performance.now()`); the router reuses its pick-latency reading when this is the clock. @internal */
export const defaultClock = (): number => performance.now();

/** Thresholds above which a worker is too busy to take a request (each off when absent). */
export const BusyThresholdsSchema = z
  .object({
    /** Busy when active KV blocks / total KV blocks (or pushed cache usage) exceeds this fraction. */
    decodeBlocksFraction: z.number().finite().positive().max(1).optional(),
    /** Busy when the worker's active prefill tokens exceed this many. */
    prefillTokens: nonNegative.optional(),
  })
  .strict();

/** Weights of the normalized scorers of policy `'weighted'` (the EPP way). */
export const ScorerWeightsSchema = z
  .object({
    prefix: nonNegative.default(3),
    queue: nonNegative.default(2),
    kv: nonNegative.default(2),
  })
  .strict()
  .refine((w) => w.prefix + w.queue + w.kv > 0, { message: 'at least one scorer weight must be > 0' });

/** The schema of {@link RouterConfig}; exported so callers can compose it into their own config. */
export const RouterConfigSchema = z
  .object({
    /** Tokens per KV block; must equal the engines' block size. */
    blockSize: z.number().int().positive().default(16),
    /** LoRA adapter names whose hashers are prepared up front (requests may name only these, or ones added with `prepareLora`). */
    loraNames: z.array(z.string()).default([]),
    /** Cache namespace (salt) folded into the hash seed, as the engines are configured. */
    cacheNamespace: z.string().optional(),
    /** `'cost'`: Dynamo's cost (lower wins). `'weighted'`: EPP-style normalized scorers. */
    policy: z.enum(['cost', 'weighted']).default('cost'),
    /** Weight of a device-tier overlap block in the cost. */
    overlapCredit: nonNegative.default(1.0),
    /** Weight of the prefill term in the cost. */
    prefillLoadScale: nonNegative.default(1.0),
    /** Weight of a host-tier (CPU memory) overlap block. */
    hostWeight: nonNegative.default(0.75),
    /** Weight of a disk-tier overlap block. */
    diskWeight: nonNegative.default(0.25),
    /** Softmax temperature of policy `'cost'`; 0 takes the minimum. */
    temperature: nonNegative.default(0),
    /** Scorer weights of policy `'weighted'`. */
    weights: ScorerWeightsSchema.default({ prefix: 3, queue: 2, kv: 2 }),
    /** Picker of policy `'weighted'`: highest score, random with probability ∝ score, or your own {@link Picker}. */
    picker: z
      .union([z.enum(['max', 'random']), z.custom<Picker>(isPlugin('pick'), { message: "expected 'max', 'random' or a Picker" })])
      .default('max'),
    /** Scorers of policy `'weighted'`; default prefix, queue and kv with `weights`. */
    scorers: z.array(z.custom<Scorer>(isPlugin('score'), { message: 'expected a Scorer { name, weight, score() }' })).optional(),
    /** Extra filters, run after the role / candidate-subset / busy filters. */
    filters: z.array(z.custom<Filter>(isPlugin('keep'), { message: 'expected a Filter { name, keep() }' })).default([]),
    /** Busy thresholds; a pick where every eligible worker is busy returns `ALL_BUSY` (529). */
    busyThresholds: BusyThresholdsSchema.default({}),
    /** Pushed metrics older than this (ms) are ignored; the worker is scored on predicted load. */
    metricsStalenessMs: positiveMs.default(10_000),
    /** Tracked requests never freed are dropped after this long (ms). */
    requestExpiryMs: positiveMs.default(600_000),
    /** Do workers publish KV events? `false`: approximate mode for every worker (per-worker override in `addWorker`). */
    kvEvents: z.boolean().default(true),
    /** Lifetime (ms) of an approximate-mode record of a routed prompt. */
    approximateTtlMs: positiveMs.default(120_000),
    /** Most blocks remembered per worker in approximate mode (least recently routed dropped first). */
    approximateMaxBlocksPerWorker: z.number().int().positive().default(1 << 20),
    /** Predicted overlay: count a just-routed prompt as cached on its worker until its events arrive. */
    predictedOverlay: z
      .object({
        enabled: z.boolean().default(false),
        ttlMs: positiveMs.default(5_000),
      })
      .strict()
      .default({ enabled: false, ttlMs: 5_000 }),
    /** Register a worker on its first event when it was not added with `addWorker`; when false such events are dropped and counted. */
    autoRegisterWorkers: z.boolean().default(true),
    /** Characters per token assumed by text mode (a 64-character block counts as 64 / this tokens). */
    textCharsPerToken: z.number().finite().positive().default(4),
    /** Random source in [0, 1); inject a seeded one for deterministic tests. */
    random: fn<() => number>('a function () => number in [0, 1)').default(() => Math.random),
    /** Clock in ms; inject a fake one for tests. Drives metric staleness, request expiry and TTLs. */
    now: fn<() => number>('a function () => number (ms)').default(() => defaultClock),
  })
  .strict();

/** Router configuration as written by the caller (every field optional). */
export type RouterConfigInput = z.input<typeof RouterConfigSchema>;
/** Router configuration with defaults applied. */
export type RouterConfig = z.output<typeof RouterConfigSchema>;

/** A router configuration failed validation; `message` is zod's, naming each bad field. */
export class RouterConfigError extends TypeError {
  /** The zod issues, for programmatic use. */
  readonly issues: readonly z.core.$ZodIssue[];
  /** @internal */
  constructor(error: z.ZodError) {
    super(`invalid router config: ${z.prettifyError(error)}`);
    this.name = 'RouterConfigError';
    this.issues = error.issues;
  }
}

/** Validates a router config and applies the defaults; throws {@link RouterConfigError}. */
export function parseRouterConfig(input: RouterConfigInput = {}): RouterConfig {
  const result = RouterConfigSchema.safeParse(input);
  if (!result.success) throw new RouterConfigError(result.error);
  return result.data;
}
