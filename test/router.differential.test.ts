/**
 * The router's fast paths against its plain ones on random histories: one router over RadixIndex
 * (zero-allocation slot view, cached eligible lists and cache → candidate maps, cost loop with
 * inlined formulas, lazily rebuilt result figures) and one over the reference index (public
 * scores iterator) see the same workers, events, load and requests and must agree on every pick,
 * every candidate figure and every score. Each candidate's figures are also checked against the
 * formulas of cost.ts, pickers.ts and scorers.ts.
 */
import { describe, expect, it } from 'vitest';
import type { KvEvent, Tier } from '../src/radix/types.js';
import { decodeBlocksWith, overlapCreditBlocks, prefillBlocksAfterCredit, routingCost } from '../src/scoring/cost.js';
import { createRouter, type PickRequest, type PickResult, type Router, type RouterConfigInput } from '../src/scoring/index.js';
import { costProbabilities } from '../src/scoring/pickers.js';
import { costScores } from '../src/scoring/scorers.js';
import { mulberry32 } from './helpers/prng.js';
import { fakeClock, newIndex, storedEvent } from './router-helpers.js';

const B = 16;
const WORKERS = ['w0', 'w1', 'w2', 'w3', 'w4', 'w5'];
const TIERS: Tier[] = ['device', 'device', 'device', 'host', 'disk'];

/** Prompts sharing prefixes: prompt k keeps the first `shared[k]` blocks of prompt 0. */
function prompts(): number[][] {
  const base = Array.from({ length: 10 * B }, (_, i) => 100 + i);
  return [10, 6, 3, 0].map((shared, k) => base.map((t, i) => (i < shared * B ? t : 5000 * (k + 1) + i)));
}

/** Strips what depends on the index implementation's row order; keeps every reported figure. */
function view(r: PickResult): unknown {
  if (!r.ok) return { ok: false, reason: r.reason, status: r.status, unknown: r.unknownCandidates };
  return {
    workerId: r.workerId,
    dpRank: r.dpRank,
    endpoint: r.endpoint,
    overlapBlocks: r.overlapBlocks,
    promptBlocks: r.promptBlocks,
    cost: r.cost,
    candidates: r.candidates,
    unknown: r.unknownCandidates,
  };
}

async function scenario(seed: number): Promise<{ picks: number; ok: number }> {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const clock = fakeClock();
  const temperature = rnd() < 0.3 ? 0.5 : 0;
  const config: RouterConfigInput = {
    blockSize: B,
    now: clock.now,
    temperature,
    metricsStalenessMs: 5_000,
    ...(rnd() < 0.3 ? { busyThresholds: { prefillTokens: 200 + int(400) } } : {}),
    ...(rnd() < 0.2 ? { policy: 'weighted' as const } : {}),
  };
  const routers: Router[] = [];
  for (const kind of ['radix', 'reference'] as const) {
    routers.push(await createRouter({ ...config, random: mulberry32(seed ^ 0x9e3779b9) }, { index: newIndex(kind) }));
  }
  const [fast, plain] = routers as [Router, Router];
  const both = <T>(f: (r: Router) => T): [T, T] => [f(fast), f(plain)];
  const texts = prompts();
  const stored = new Map<string, number>(); // `${w}/${rank}/${k}` → blocks stored
  const p = { blockSize: B, overlapCredit: 1, hostWeight: 0.75, diskWeight: 0.25, prefillLoadScale: 1 };
  let picks = 0;
  let ok = 0;
  let nextRequest = 0;
  const live: string[] = [];
  for (let step = 0; step < 60; step++) {
    const w = WORKERS[int(WORKERS.length)]!;
    const rank = rnd() < 0.8 ? 0 : 1;
    const action = rnd();
    if (action < 0.12) {
      const role = (['both', 'both', 'both', 'prefill', 'decode'] as const)[int(5)]!;
      const spec = { workerId: w, dpRanks: rank === 0 ? [0] : [0, 1], role };
      both((r) => r.addWorker(spec));
    } else if (action < 0.2) {
      const which = rnd() < 0.5 ? undefined : rank;
      both((r) => r.removeWorker(w, which));
      for (const key of [...stored.keys()]) if (key.startsWith(`${w}/`)) stored.delete(key);
    } else if (action < 0.45) {
      const k = int(texts.length);
      const blocks = 1 + int(10);
      const event = await storedEvent(w, texts[k]!, blocks, { dpRank: rank, tier: TIERS[int(TIERS.length)]! });
      both((r) => r.applyEvent(event));
      stored.set(`${w}/${rank}/${k}`, blocks);
    } else if (action < 0.52) {
      const k = int(texts.length);
      const full = await storedEvent(w, texts[k]!, 10, { dpRank: rank });
      const from = int(10);
      const event: KvEvent = { type: 'removed', workerId: w, dpRank: rank, blockHashes: full.type === 'stored' ? full.blocks.slice(from).map((b) => b.blockHash) : [] };
      both((r) => r.applyEvent(event));
    } else if (action < 0.6) {
      const metrics = rnd() < 0.5 ? { activeDecodeBlocks: int(40), activePrefillTokens: int(500) } : { kvActiveBlocks: int(100), kvTotalBlocks: 100 + int(100) };
      both((r) => r.updateLoad(w, rank, metrics));
    } else if (action < 0.66) {
      clock.advance(rnd() < 0.3 ? 6_000 : int(1_000));
    } else if (action < 0.7 && live.length > 0) {
      const id = live.splice(int(live.length), 1)[0]!;
      if (rnd() < 0.5) both((r) => r.markPrefillComplete(id));
      else both((r) => r.free(id));
    } else {
      const k = int(texts.length);
      const tokens = texts[k]!.slice(0, B * (1 + int(10)) + int(B));
      const request: PickRequest = { tokens };
      if (rnd() < 0.3) request.candidates = [WORKERS[int(6)]!, rnd() < 0.5 ? { workerId: WORKERS[int(6)]!, dpRank: int(2) } : 'ghost'];
      if (rnd() < 0.2) request.role = rnd() < 0.5 ? 'prefill' : 'decode';
      if (rnd() < 0.4) {
        request.requestId = `r${nextRequest++}`;
        live.push(request.requestId);
      }
      const [a, b] = both((r) => r.pickEndpoint(request));
      const context = `seed ${seed} step ${step}`;
      expect(view(a), context).toEqual(view(b));
      const { requestId: _unused, ...unrecorded } = request;
      const [sa, sb] = both((r) => r.scoreEndpoints(unrecorded));
      expect(sa, context).toEqual(sb);
      picks++;
      if (!a.ok) continue;
      ok++;
      const cands = a.candidates;
      const n = cands.length;
      const cost = Float64Array.from(cands, (c) => c.cost);
      for (const c of cands) {
        expect(c.tiers.device + c.tiers.host + c.tiers.disk, context).toBe(c.overlapBlocks);
        expect(c.cost, context).toBe(routingCost(p, c.prefillBlocks, c.decodeBlocks));
      }
      expect(cands.some((c) => c.workerId === a.workerId && c.dpRank === a.dpRank && c.probability > 0 && !c.busy), context).toBe(true);
      if (config.policy === 'weighted') continue;
      const busy = Uint8Array.from(cands, (c) => (c.busy ? 1 : 0));
      const probs = new Float64Array(n);
      costProbabilities(cost, busy, n, temperature, probs);
      const scores = new Float64Array(n);
      costScores(cost, n, scores);
      cands.forEach((c, i) => {
        expect(c.probability, context).toBe(probs[i]);
        expect(c.score, context).toBe(c.busy ? 0 : scores[i]);
      });
      // With no tracked requests, load is exactly what was pushed: check the cost formulas too.
      if (fast.activeRequests === 0 && request.requestId === undefined && request.role === undefined) {
        for (const c of cands) {
          const credit = overlapCreditBlocks(p, c.tiers.device, c.tiers.host, c.tiers.disk);
          const minPrefill = prefillBlocksAfterCredit(p, 0, tokens.length, credit);
          const minDecode = decodeBlocksWith(0, a.promptBlocks, c.overlapBlocks);
          expect(c.prefillBlocks, context).toBeGreaterThanOrEqual(minPrefill);
          expect(c.decodeBlocks, context).toBeGreaterThanOrEqual(minDecode);
        }
      }
    }
  }
  return { picks, ok };
}

describe('router fast paths agree with the plain paths', () => {
  it('on 60 random histories (workers come and go, slots are reused, tiers, load, roles, subsets, requests)', async () => {
    let picks = 0;
    let ok = 0;
    for (let seed = 1; seed <= Number(process.env.ROUTER_SEEDS ?? 60); seed++) {
      const r = await scenario(seed);
      picks += r.picks;
      ok += r.ok;
    }
    // The histories must really exercise picks, not just failures.
    expect(picks).toBeGreaterThan(600);
    expect(ok).toBeGreaterThan(picks / 3);
  });
});
