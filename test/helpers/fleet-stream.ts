/**
 * A seeded, fleet-shaped event stream for volume differential tests: many caches sharing a few long
 * system prompts, branches that diverge on a tiny alphabet, long private tails stored as
 * parent-linked chunks (as engines send them), heavy eviction waves (to free thousands of blocks and
 * make an index compact), second names, name conflicts, clears, removed and re-added workers.
 */
import type { KvEvent, Tier } from '../../src/radix/types.js';
import { prng } from './event-streams.js';

const U64 = (1n << 64n) - 1n;

function mix(a: bigint, b: bigint): bigint {
  let x = (a * 0x9e3779b97f4a7c15n + b + 0x5851f42d4c957f2dn) & U64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & U64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & U64;
  return x ^ (x >> 31n);
}

/** What a generated step is. */
export type FleetAction =
  | { kind: 'apply'; event: KvEvent }
  | { kind: 'removeWorker'; workerId: string; dpRank?: number }
  | { kind: 'snapshot' };

interface Held {
  blockHash: bigint;
  /** The block's path is `full.slice(0, depth)` (`full` is shared by a whole stored chain). */
  full: bigint[];
  depth: number;
  tier: Tier;
}

/** Options of {@link FleetStream}. */
export interface FleetOptions {
  seed: number;
  workers: number;
  ranks: number;
  /** Length of each of the 3 system prompts, in blocks. */
  systemBlocks: number;
}

/**
 * Generates actions one at a time. It tracks, per cache, the blocks it asked to store (not whether
 * the index accepted them: stale names make realistic BLOCK_NOT_FOUND / PARENT_NOT_FOUND traffic).
 */
export class FleetStream {
  readonly #random: () => number;
  readonly #opts: FleetOptions;
  readonly #systems: bigint[][];
  readonly #held = new Map<string, Held[]>();
  /** Paths stored so far (bounded), for queries. */
  readonly paths: bigint[][] = [];
  #generation = 0;

  constructor(opts: FleetOptions) {
    this.#opts = opts;
    this.#random = prng(opts.seed);
    this.#systems = [0, 1, 2].map((s) => Array.from({ length: opts.systemBlocks }, (_, i) => mix(BigInt(s), BigInt(i))));
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n);
  }

  #cache(): { workerId: string; dpRank: number; key: string } {
    // Worker ids are renamed by a generation counter after removeWorker, so slots get reused by new ids.
    const w = this.#int(this.#opts.workers);
    const dpRank = this.#int(this.#opts.ranks);
    const workerId = `10.0.${w}.1:8000#${this.#generation % 3}`;
    return { workerId, dpRank, key: `${workerId}/${dpRank}` };
  }

  #tier(): Tier {
    const r = this.#random();
    return r < 0.7 ? 'device' : r < 0.9 ? 'host' : 'disk';
  }

  /** Actions for one "request served" on a random cache: a chain stored in chunks of ≤ 64 blocks. */
  store(): FleetAction[] {
    const { workerId, dpRank, key } = this.#cache();
    const held = this.#held.get(key) ?? [];
    this.#held.set(key, held);
    const tier = this.#tier();
    // Start: a held block (extend), a system prompt prefix (shared by everyone), or the root.
    let parent: Held | null = null;
    let tokens: bigint[] = [];
    const r = this.#random();
    if (r < 0.45 && held.length > 0) parent = held[this.#int(held.length)]!;
    else if (r < 0.9) {
      const sys = this.#systems[this.#int(3)]!;
      tokens = sys.slice(0, 1 + this.#int(sys.length));
    }
    // Then a branch on a tiny alphabet (siblings everywhere) and a private tail.
    const branch = this.#int(4);
    for (let i = 0; i < branch; i++) tokens.push(BigInt(1 + this.#int(3)));
    const tail = this.#random() < 0.6 ? this.#int(200) : 0;
    const salt = BigInt(this.#int(1 << 30));
    for (let i = 0; i < tail; i++) tokens.push(mix(salt, BigInt(i)));
    const actions: FleetAction[] = [];
    const full = [...(parent === null ? [] : parent.full.slice(0, parent.depth)), ...tokens];
    let depth = parent?.depth ?? 0;
    let previous = parent?.blockHash ?? 0n;
    for (let at = 0; at < tokens.length; at += 64) {
      const parentHash = at === 0 ? (parent?.blockHash ?? null) : previous;
      const blocks = tokens.slice(at, at + 64).map((tokensHash) => {
        const roll = this.#random();
        // Mostly engine-like names (same path → same name on every worker); some second names and clashes.
        const blockHash =
          roll < 0.96 ? mix(previous, tokensHash) : roll < 0.99 ? mix(previous ^ 0xabcdefn, tokensHash) : BigInt(this.#int(16));
        previous = blockHash;
        held.push({ blockHash, full, depth: ++depth, tier });
        return { blockHash, tokensHash };
      });
      actions.push({ kind: 'apply', event: { type: 'stored', workerId, dpRank, tier, parentHash, blocks } });
    }
    if (tokens.length > 0) {
      this.paths.push(full);
      if (this.paths.length > 200) this.paths.splice(0, 100);
    }
    return actions;
  }

  /** A removal batch on a random cache: a few random blocks, or an eviction wave of most of them. */
  evict(wave: boolean): FleetAction[] {
    const { workerId, dpRank, key } = this.#cache();
    const held = this.#held.get(key) ?? [];
    if (held.length === 0) return [{ kind: 'apply', event: { type: 'removed', workerId, dpRank, blockHashes: [BigInt(this.#int(99))] } }];
    const count = wave ? Math.ceil(held.length * (0.6 + 0.4 * this.#random())) : 1 + this.#int(8);
    // Deepest first, as an LRU evicts tails first; waves take everything from some point on.
    held.sort((a, b) => a.depth - b.depth);
    const victims = wave ? held.splice(held.length - count, count).reverse() : held.splice(this.#int(held.length), count);
    const actions: FleetAction[] = [];
    const byTier = new Map<Tier, bigint[]>();
    for (const v of victims) {
      const tier = this.#random() < 0.95 ? v.tier : this.#tier();
      byTier.set(tier, [...(byTier.get(tier) ?? []), v.blockHash]);
    }
    for (const [tier, hashes] of byTier) {
      for (let at = 0; at < hashes.length; at += 128) {
        actions.push({ kind: 'apply', event: { type: 'removed', workerId, dpRank, tier, blockHashes: hashes.slice(at, at + 128) } });
      }
    }
    return actions;
  }

  /** Some rarer actions: clear a cache, forget a worker (one rank or all), snapshot/restore. */
  rare(): FleetAction[] {
    const { workerId, dpRank, key } = this.#cache();
    const r = this.#random();
    if (r < 0.4) {
      this.#held.delete(key);
      return [{ kind: 'apply', event: { type: 'cleared', workerId, dpRank } }];
    }
    if (r < 0.8) {
      const all = this.#random() < 0.5;
      for (const k of [...this.#held.keys()]) if (k.startsWith(`${workerId}/`) && (all || k === key)) this.#held.delete(k);
      this.#generation++;
      return [all ? { kind: 'removeWorker', workerId } : { kind: 'removeWorker', workerId, dpRank }];
    }
    return [{ kind: 'snapshot' }];
  }

  /** Queries: stored paths cut at random points (deep hits), extended, or perturbed. */
  queries(count: number): bigint[][] {
    const out: bigint[][] = [];
    for (let i = 0; i < count && this.paths.length > 0; i++) {
      const p = this.paths[this.#int(this.paths.length)]!;
      const r = this.#random();
      if (r < 0.5) out.push(p.slice(0, 1 + this.#int(p.length)));
      else if (r < 0.8) out.push([...p, 1n, 2n]);
      else {
        const q = p.slice();
        q[this.#int(q.length)] = BigInt(1 + this.#int(3));
        out.push(q);
      }
    }
    out.push(this.#systems[0]!.slice());
    return out;
  }
}
