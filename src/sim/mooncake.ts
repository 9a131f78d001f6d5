import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { tokenAt } from './rng.js';
import type { SimRequest, Workload } from './workload.js';

/** Tokens per Mooncake hash id. */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** Options of {@link parseMooncakeTrace}. */
export interface MooncakeOptions {
  /** Keep only the first `limit` requests. */
  limit?: number;
  /** Divide arrival times by this factor (2 = twice as fast). Default 1. */
  speedup?: number;
  /** Rescale arrival times to this mean rate in requests per second (overrides `speedup`). */
  rate?: number;
  /** Vocabulary size of the derived token ids. Default 32000. */
  vocab?: number;
  /** Name shown in reports. */
  name?: string;
}

/** A trace line that is not a valid Mooncake record. */
export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

interface TraceRequest extends SimRequest {
  readonly hashIds: Int32Array;
}

/**
 * Parses a Mooncake JSONL trace (`{timestamp, input_length, output_length, hash_ids}` per line,
 * one hash id per 512-token block, ids chained: an id names its block together with its prefix).
 * Token ids are derived deterministically from (hash id, offset in the 512-token block), so any
 * router block size sees the same sharing as the trace: two prompts share exactly as many leading
 * tokens as their common leading ids cover. Throws {@link TraceFormatError} naming the line.
 */
export function parseMooncakeTrace(text: string, options: MooncakeOptions = {}): Workload {
  const vocab = options.vocab ?? 32000;
  const limit = options.limit ?? Infinity;
  const raw: Array<{ ts: number; input: number; output: number; ids: Int32Array }> = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (raw.length >= limit) break;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(trimmed);
    } catch {
      throw new TraceFormatError(`line ${lineNo}: not JSON`);
    }
    if (typeof rec !== 'object' || rec === null) throw new TraceFormatError(`line ${lineNo}: expected an object`);
    const r = rec as Record<string, unknown>;
    const ts = r['timestamp'];
    const input = r['input_length'];
    const output = r['output_length'];
    const ids = r['hash_ids'];
    if (typeof ts !== 'number' || !(ts >= 0)) throw new TraceFormatError(`line ${lineNo}: timestamp must be a number >= 0`);
    if (!Number.isInteger(input) || (input as number) < 1) throw new TraceFormatError(`line ${lineNo}: input_length must be a positive integer`);
    if (!Number.isInteger(output) || (output as number) < 0) throw new TraceFormatError(`line ${lineNo}: output_length must be an integer >= 0`);
    if (!Array.isArray(ids) || !ids.every((h) => Number.isInteger(h) && h >= 0 && h < 2 ** 31)) {
      throw new TraceFormatError(`line ${lineNo}: hash_ids must be an array of non-negative integers`);
    }
    if (ids.length * MOONCAKE_BLOCK_TOKENS < (input as number)) {
      throw new TraceFormatError(`line ${lineNo}: ${ids.length} hash_ids cover fewer than input_length ${input as number} tokens`);
    }
    raw.push({ ts, input: input as number, output: Math.max(1, output as number), ids: Int32Array.from(ids as number[]) });
  }
  if (raw.length === 0) throw new TraceFormatError('the trace has no requests');
  raw.sort((a, b) => a.ts - b.ts);
  const t0 = raw[0]!.ts;
  const span = raw[raw.length - 1]!.ts - t0;
  let scale = 1 / (options.speedup ?? 1);
  if (options.rate !== undefined && span > 0) scale = (raw.length - 1) * 1000 / span / options.rate;
  const requests: TraceRequest[] = raw.map((r, index) => ({
    index,
    arrivalMs: (r.ts - t0) * scale,
    promptLength: r.input,
    outputLength: r.output,
    hashIds: r.ids,
  }));
  return {
    name: options.name ?? `mooncake trace (${requests.length} requests)`,
    requests,
    promptTokens(request: SimRequest): Uint32Array {
      const r = request as TraceRequest;
      const out = new Uint32Array(r.promptLength);
      for (let b = 0, at = 0; at < out.length; b++) {
        const h = r.hashIds[b]!;
        const end = Math.min(out.length, at + MOONCAKE_BLOCK_TOKENS);
        for (let j = 0; at < end; j++) out[at++] = tokenAt(h, j, vocab);
      }
      return out;
    },
    outputTokens(request: SimRequest): Uint32Array {
      const out = new Uint32Array(request.outputLength);
      const key = (0x40000000 + request.index) | 0;
      for (let i = 0; i < out.length; i++) out[i] = tokenAt(key, i + 0x100000, vocab);
      return out;
    },
  };
}

/** Reads and parses a Mooncake JSONL trace file (see {@link parseMooncakeTrace}). */
export function loadMooncakeTrace(path: string, options: MooncakeOptions = {}): Workload {
  const text = readFileSync(path, 'utf8');
  return parseMooncakeTrace(text, { name: basename(path), ...options });
}
