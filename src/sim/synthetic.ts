import { Rng, tokenAt } from './rng.js';
import type { SimRequest, Workload } from './workload.js';

/** Options of {@link syntheticWorkload}. */
export interface SyntheticOptions {
  /** Seed; the same seed gives the same workload. Default 1. */
  seed?: number;
  /** Number of requests. Default 6000. */
  requests?: number;
  /** Mean arrival rate in requests per second. Default 40. */
  rate?: number;
  /** Distinct shared system prompts (Zipf-popular). Default 32. */
  systemPrompts?: number;
  /** Mean turns per conversation. Default 4. */
  meanTurns?: number;
  /** Vocabulary size of the generated token ids. Default 32000. */
  vocab?: number;
}

/** Synthetic request: which conversation and turn it is. */
interface SyntheticRequest extends SimRequest {
  readonly conversation: number;
  readonly turn: number;
}

interface Conversation {
  system: number;
  userLengths: number[];
  replyLengths: number[];
}

/**
 * A seeded synthetic chat workload: conversations arrive as a Poisson process; each picks one of a
 * few shared system prompts (Zipf popularity), then runs several turns. Turn `k`'s prompt is the
 * system prompt, every earlier user message and assistant reply, and the new user message; its
 * output is the assistant reply that later turns include, so an engine that caches generated
 * blocks hits them on the next turn (as vLLM does). No files or network involved.
 */
export function syntheticWorkload(options: SyntheticOptions = {}): Workload {
  const seed = options.seed ?? 1;
  const total = options.requests ?? 6000;
  const rate = options.rate ?? 40;
  const nSystem = options.systemPrompts ?? 32;
  const meanTurns = options.meanTurns ?? 4;
  const vocab = options.vocab ?? 32000;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`requests must be a positive integer, got ${total}`);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number, got ${rate}`);
  const rng = new Rng(seed);

  const systemLengths: number[] = [];
  for (let s = 0; s < nSystem; s++) systemLengths.push(rng.int(600, 3000));
  // Zipf(1) popularity over system prompts.
  const cumulative: number[] = [];
  let sum = 0;
  for (let s = 0; s < nSystem; s++) cumulative.push((sum += 1 / (s + 1)));

  const conversations: Conversation[] = [];
  const requests: SyntheticRequest[] = [];
  const convRate = rate / meanTurns; // conversations per second
  // Conversations start from -warmup so arrivals are at the steady rate from time 0; keep
  // generating until the first `total` arrivals (by time) are all known, then drop the rest.
  const warmupMs = 120_000;
  let start = -warmupMs;
  let checkAt = total;
  while (true) {
    if (requests.length >= checkAt) {
      checkAt = requests.length + Math.max(1024, Math.ceil(total / 8));
      const times = Float64Array.from(requests, (r) => r.arrivalMs).filter((t) => t >= 0).sort();
      if (times.length >= total && times[total - 1]! < start) break;
    }
    start += rng.exp(1000 / convRate);
    const u = rng.next() * sum;
    let system = 0;
    while (cumulative[system]! < u) system++;
    const turns = Math.max(1, Math.min(12, Math.round(rng.exp(meanTurns))));
    const conv: Conversation = { system, userLengths: [], replyLengths: [] };
    const c = conversations.length;
    conversations.push(conv);
    let at = start;
    let history = systemLengths[system]!;
    for (let t = 0; t < turns; t++) {
      const user = rng.logNormalInt(150, 0.8, 8, 2000);
      const reply = rng.logNormalInt(200, 0.6, 16, 1000);
      conv.userLengths.push(user);
      conv.replyLengths.push(reply);
      requests.push({ index: -1, arrivalMs: at, promptLength: history + user, outputLength: reply, conversation: c, turn: t });
      history += user + reply;
      // The user reads the reply and types: the reply time of an idle engine plus think time.
      at += 1000 + reply * 20 + rng.exp(15_000);
    }
  }
  const kept = requests.filter((r) => r.arrivalMs >= 0);
  kept.sort((a, b) => a.arrivalMs - b.arrivalMs || a.conversation - b.conversation);
  kept.length = total;
  const indexed = kept.map((r, index) => ({ ...r, index }));

  const fill = (out: Uint32Array, at: number, key: number, length: number): number => {
    for (let i = 0; i < length; i++) out[at + i] = tokenAt(key, i, vocab);
    return at + length;
  };
  const userKey = (c: number, t: number): number => (0x10000000 + c * 16 + t) | 0;
  const replyKey = (c: number, t: number): number => (0x50000000 + c * 16 + t) | 0;

  return {
    name: `synthetic chat (seed ${seed}, ${total} requests)`,
    requests: indexed,
    promptTokens(request: SimRequest): Uint32Array {
      const r = request as SyntheticRequest;
      const conv = conversations[r.conversation]!;
      const out = new Uint32Array(r.promptLength);
      let at = fill(out, 0, conv.system, systemLengths[conv.system]!);
      for (let t = 0; t < r.turn; t++) {
        at = fill(out, at, userKey(r.conversation, t), conv.userLengths[t]!);
        at = fill(out, at, replyKey(r.conversation, t), conv.replyLengths[t]!);
      }
      fill(out, at, userKey(r.conversation, r.turn), conv.userLengths[r.turn]!);
      return out;
    },
    outputTokens(request: SimRequest): Uint32Array {
      const r = request as SyntheticRequest;
      const out = new Uint32Array(r.outputLength);
      fill(out, 0, replyKey(r.conversation, r.turn), r.outputLength);
      return out;
    },
  };
}
