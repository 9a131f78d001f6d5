/**
 * Random KV event streams for differential tests: fast-check arbitraries of abstract steps, a
 * driver that turns them into concrete events (valid parents picked from what the worker stored,
 * engine-like derived block hashes, plus deliberate conflicts), and query generation.
 */
import fc from 'fast-check';
import type { KvEvent, Tier } from '../../src/radix/types.js';
import type { LiteralModel } from './literal-model.js';
import { mulberry32 as prng } from './prng.js';

const U64 = (1n << 64n) - 1n;

/** Tokens hashes: few, so paths share and collide; big values and equal low 32 bits on purpose. */
export const TOKEN_HASHES: readonly bigint[] = [
  1n,
  2n,
  (1n << 32n) | 1n, // low 32 bits equal to 1n
  1n << 63n, // low 32 bits equal to 0n
  U64,
  0xffffffffn, // low 32 bits equal to U64
  0n,
  (1n << 63n) | 2n, // low 32 bits equal to 2n
];
/** Block hashes used on purpose for conflicts (several names, names reused across paths). */
export const BLOCK_HASH_POOL: readonly bigint[] = [1n, 2n, (1n << 32n) | 1n, U64, 0xffffffffn, 1n << 63n, 0n, U64 - 1n];
export const WORKER_IDS: readonly string[] = ['w0', '10.0.0.7:8000', '18446744073709551615', ''];
const TIERS: readonly Tier[] = ['device', 'host', 'disk'];

/** Picks one of a list with weights. */
const weighted = <T>(pairs: ReadonlyArray<[number, T]>): fc.Arbitrary<T> =>
  fc.oneof(...pairs.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })));

const worker = fc.record({
  w: weighted<number>([
    [5, 0],
    [3, 1],
    [2, 2],
    [1, 3],
  ]),
  r: weighted<number>([
    [8, 0],
    [3, 1],
    [1, 2],
  ]),
});
const tier = weighted<Tier>([
  [6, 'device'],
  [3, 'host'],
  [2, 'disk'],
]);
/** Index into TOKEN_HASHES, the first ones more likely so chains share prefixes. */
const token = weighted<number>([
  [5, 0],
  [4, 1],
  [2, 2],
  [2, 3],
  [2, 4],
  [1, 5],
  [1, 6],
  [1, 7],
]);

/** How a block gets its hash. */
export type HashMode = 'derived' | 'alias' | 'pool' | 'repeat';
/** Conflicts per block are rarer in long chains, or nearly every long chain would be rejected. */
const hashMode = (maxBlocks: number): fc.Arbitrary<HashMode> =>
  maxBlocks <= 10
    ? weighted<HashMode>([
        [80, 'derived'],
        [6, 'alias'],
        [10, 'pool'],
        [2, 'repeat'],
      ])
    : weighted<HashMode>([
        [400, 'derived'],
        [6, 'alias'],
        [4, 'pool'],
        [1, 'repeat'],
      ]);

/** Which block hash a parent or removal names. */
export type Pick =
  | { from: 'held'; n: number } // a name the cache holds now (per the model)
  | { from: 'own'; n: number } // any block this cache ever stored
  | { from: 'foreign'; n: number } // a block some cache stored
  | { from: 'pool'; n: number }; // a fixed hash
const pick = (weights: [number, number, number, number]): fc.Arbitrary<Pick> =>
  fc.oneof(
    { weight: weights[0], arbitrary: fc.nat(1000).map((n) => ({ from: 'held' as const, n })) },
    { weight: weights[1], arbitrary: fc.nat(1000).map((n) => ({ from: 'own' as const, n })) },
    { weight: weights[2], arbitrary: fc.nat(1000).map((n) => ({ from: 'foreign' as const, n })) },
    { weight: weights[3], arbitrary: fc.nat(BLOCK_HASH_POOL.length - 1).map((n) => ({ from: 'pool' as const, n })) },
  );

/** One abstract step of a stream. */
export type Step =
  | {
      op: 'stored';
      w: number;
      r: number;
      tier: Tier;
      parent: Pick | null;
      /** When set (root chains only): the tokens follow one of the paths already built, then `blocks`' own. */
      copy: number | null;
      blocks: Array<{ t: number; mode: HashMode; salt: number }>;
    }
  | { op: 'removed'; w: number; r: number; tier: Tier | 'asStored'; picks: Pick[] }
  | { op: 'cleared'; w: number; r: number; tier: Tier }
  | { op: 'removeWorker'; w: number; r: number | null }
  | { op: 'snapshot' };

const storedStep = (maxBlocks: number): fc.Arbitrary<Step> =>
  fc
    .record({
      who: worker,
      tier,
      parent: fc.option(pick([6, 3, 1, 1]), { freq: 2 }),
      copy: fc.option(fc.nat(1000), { freq: 2 }),
      blocks: fc.array(fc.record({ t: token, mode: hashMode(maxBlocks), salt: fc.nat(3) }), { maxLength: maxBlocks, size: 'max' }),
    })
    .map(({ who, tier, parent, copy, blocks }): Step => ({ op: 'stored', w: who.w, r: who.r, tier, parent, copy, blocks }));

const removedStep: fc.Arbitrary<Step> = fc
  .record({
    who: worker,
    tier: fc.oneof({ weight: 3, arbitrary: fc.constant('asStored' as const) }, { weight: 1, arbitrary: tier }),
    picks: fc.array(pick([5, 4, 1, 1]), { minLength: 1, maxLength: 4 }),
  })
  .map(({ who, tier, picks }): Step => ({ op: 'removed', w: who.w, r: who.r, tier, picks }));

/** One random step; weights favour stores so indexes grow. `maxBlocks` bounds a stored chain. */
export const step = (maxBlocks = 6): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 55, arbitrary: storedStep(maxBlocks) },
    { weight: 25, arbitrary: removedStep },
    {
      weight: 3,
      arbitrary: fc.record({ who: worker, tier }).map(({ who, tier }): Step => ({ op: 'cleared', w: who.w, r: who.r, tier })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ who: worker, all: fc.boolean() })
        .map(({ who, all }): Step => ({ op: 'removeWorker', w: who.w, r: all ? null : who.r })),
    },
    { weight: 2, arbitrary: fc.constant<Step>({ op: 'snapshot' }) },
  );

/** What a step turns into. */
export type Action =
  | { kind: 'apply'; event: KvEvent }
  | { kind: 'removeWorker'; workerId: string; dpRank?: number }
  | { kind: 'snapshot' };

interface Named {
  blockHash: bigint;
  path: bigint[];
  tier: Tier;
}

/** An engine-like block hash: a mix of the parent's block hash and the block's tokens hash. */
function derive(parent: bigint, tokensHash: bigint, salt: number): bigint {
  let x = (parent * 0x9e3779b97f4a7c15n + tokensHash + BigInt(salt) * 0x632be59bd9b4e019n + 0x1234567n) & U64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & U64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & U64;
  return x ^ (x >> 31n);
}

export { mulberry32 as prng } from './prng.js';

/**
 * Turns abstract steps into concrete actions. It remembers what each cache stored (from accepted
 * events) so parents and removals mostly name real blocks, and every path it built, for queries.
 */
export class StreamDriver {
  constructor(readonly model: LiteralModel) {}

  readonly #history = new Map<string, Named[]>();
  readonly #all: Named[] = [];
  readonly #pathOf = new Map<string, Map<bigint, bigint[]>>();
  /** Paths of accepted stores, latest last (bounded). */
  readonly paths: bigint[][] = [];

  action(s: Step): Action {
    switch (s.op) {
      case 'snapshot':
        return { kind: 'snapshot' };
      case 'removeWorker':
        return s.r === null
          ? { kind: 'removeWorker', workerId: WORKER_IDS[s.w]! }
          : { kind: 'removeWorker', workerId: WORKER_IDS[s.w]!, dpRank: s.r };
      case 'cleared':
        return { kind: 'apply', event: { type: 'cleared', workerId: WORKER_IDS[s.w]!, dpRank: s.r, tier: s.tier } };
      case 'removed': {
        const [w, r] = this.#target(s.w, s.r, s.picks[0]?.from === 'held');
        const key = `${w}/${r}`;
        const named = s.picks.map((p) => this.#pick(key, p));
        return {
          kind: 'apply',
          event: {
            type: 'removed',
            workerId: WORKER_IDS[w]!,
            dpRank: r,
            tier: s.tier === 'asStored' ? named[0]!.tier : s.tier,
            blockHashes: named.map((n) => n.blockHash),
          },
        };
      }
      case 'stored': {
        const [w, r] = this.#target(s.w, s.r, s.parent?.from === 'held');
        const key = `${w}/${r}`;
        const parent = s.parent === null ? null : this.#pick(key, s.parent);
        let previous = parent?.blockHash ?? 0n;
        const copied = parent === null && s.copy !== null && this.paths.length > 0 ? this.paths[s.copy % this.paths.length]!.slice(0, 48) : [];
        const plan = [...copied.map((tokensHash) => ({ tokensHash, mode: 'derived' as HashMode, salt: 0 })), ...s.blocks.map(({ t, mode, salt }) => ({ tokensHash: TOKEN_HASHES[t]!, mode, salt }))];
        const blocks = plan.map(({ tokensHash, mode, salt }) => {
          const t = TOKEN_HASHES.indexOf(tokensHash);
          let blockHash: bigint;
          if (mode === 'derived') blockHash = derive(previous, tokensHash, 0);
          else if (mode === 'alias') blockHash = derive(previous, tokensHash, 1 + salt);
          else if (mode === 'pool') blockHash = BLOCK_HASH_POOL[(t + salt) % BLOCK_HASH_POOL.length]!;
          else blockHash = previous;
          previous = blockHash;
          return { blockHash, tokensHash };
        });
        const event: KvEvent = { type: 'stored', workerId: WORKER_IDS[w]!, dpRank: r, tier: s.tier, blocks };
        if (parent !== null) event.parentHash = parent.blockHash;
        else if (s.blocks.length % 2 === 1) event.parentHash = null; // both spellings of "root"
        return { kind: 'apply', event };
      }
    }
  }

  /** Records an accepted stored event (call with the oracle's result). */
  accepted(event: KvEvent): void {
    if (event.type !== 'stored') return;
    const key = `${WORKER_IDS.indexOf(event.workerId)}/${event.dpRank ?? 0}`;
    let names = this.#pathOf.get(key);
    if (names === undefined) this.#pathOf.set(key, (names = new Map()));
    let path = event.parentHash == null ? [] : (names.get(event.parentHash) ?? []);
    let history = this.#history.get(key);
    if (history === undefined) this.#history.set(key, (history = []));
    for (const { blockHash, tokensHash } of event.blocks) {
      path = [...path, tokensHash];
      names.set(blockHash, path);
      const named = { blockHash, path, tier: event.tier ?? 'device' };
      history.push(named);
      this.#all.push(named);
    }
    if (event.blocks.length > 0) this.paths.push(path);
    if (this.paths.length > 64) this.paths.shift();
    if (history.length > 256) history.splice(0, history.length - 256);
    if (this.#all.length > 1024) this.#all.splice(0, this.#all.length - 1024);
  }

  /** Some queries: stored paths, their prefixes and extensions, near misses, random sequences. */
  queries(random: () => number, count: number): bigint[][] {
    const int = (n: number): number => Math.floor(random() * n);
    const tokenAt = (): bigint => TOKEN_HASHES[int(TOKEN_HASHES.length)]!;
    const out: bigint[][] = [];
    if (this.paths.length > 0) out.push([...this.paths[this.paths.length - 1]!, tokenAt()]);
    while (out.length < count) {
      const kind = int(6);
      const base = this.paths.length > 0 ? this.paths[int(this.paths.length)]! : [];
      if (kind <= 1) out.push(base.slice(0, 1 + int(base.length + 1)));
      else if (kind === 2) out.push([...base, tokenAt(), tokenAt()]);
      else if (kind === 3 && base.length > 0) {
        const q = base.slice();
        q[int(q.length)] = tokenAt();
        out.push(q);
      } else out.push(Array.from({ length: 1 + int(4) }, tokenAt));
    }
    return out;
  }

  /** The step's cache; when it wants a held block but holds none, some cache that does. */
  #target(w: number, r: number, wantsHeld: boolean): [number, number] {
    if (!wantsHeld || this.model.names(WORKER_IDS[w]!, r).length > 0) return [w, r];
    const holding = this.model.workers().filter((k) => this.model.names(k.workerId, k.dpRank).length > 0);
    if (holding.length === 0) return [w, r];
    const chosen = holding[(w * 3 + r) % holding.length]!;
    return [WORKER_IDS.indexOf(chosen.workerId), chosen.dpRank];
  }

  #pick(key: string, p: Pick): Named {
    const own = this.#history.get(key) ?? [];
    if (p.from === 'held') {
      const [w, r] = key.split('/').map(Number) as [number, number];
      const held = this.model.names(WORKER_IDS[w]!, r);
      if (held.length > 0) return held[p.n % held.length]!;
    }
    if (p.from === 'own' && own.length > 0) return own[p.n % own.length]!;
    if (p.from !== 'pool' && this.#all.length > 0) return this.#all[p.n % this.#all.length]!;
    return { blockHash: BLOCK_HASH_POOL[p.n % BLOCK_HASH_POOL.length]!, path: [], tier: 'device' };
  }
}

/** bigint-safe JSON for messages. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** An action as a line of code, for repros. */
export function actionCode(a: Action): string {
  if (a.kind === 'snapshot') return 'index = RadixIndex.restore(index.snapshot());';
  if (a.kind === 'removeWorker') {
    return `index.removeWorker(${JSON.stringify(a.workerId)}${a.dpRank === undefined ? '' : `, ${a.dpRank}`});`;
  }
  return `index.apply(${show(a.event).replace(/"(-?\d+)n"/g, '$1n')});`;
}
