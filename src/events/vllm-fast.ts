/**
 * The vLLM / SGLang fast path: walks the MessagePack bytes in place (no generic unpack), reading
 * token ids straight into a typed array. Field semantics are shared with `vllm.ts` (the generic
 * walk over an unpacked value, kept as the reference the tests compare against).
 */
import type { KvEvent } from '../radix/types.js';
import { abort } from './errors.js';
import { countIgnored, type DecodeContext } from './decode-context.js';
import { MsgpackReader } from './msgpack-reader.js';
import { describe, toSafeUint } from './u64.js';
import { decodeRemoved, decodeStored, REMOVED_FIELDS, STORED_FIELDS, type Fields } from './vllm.js';

const TOKENS_INDEX = 2;
const HASHES_INDEX = 0;
const MAX_FIELDS = STORED_FIELDS.length;
/** Slot of every known map key (the union of BlockStored and BlockRemoved fields). */
const NAME_SLOT = new Map<string, number>(STORED_FIELDS.map((name, i) => [name, i]));
let scratch = new Uint32Array(4096);

/**
 * Reads `token_ids`: a Uint32Array view of the scratch when every element is a u32 integer (the
 * view is consumed before the next event is read), else a plain array the shared code rejects.
 */
function readTokens(r: MsgpackReader): unknown {
  const start = r.pos;
  const n = r.arrayHeader();
  if (n < 0) return r.value();
  if (scratch.length < n) scratch = new Uint32Array(Math.max(n, scratch.length * 2));
  const out = scratch;
  const buf = r.buf;
  const end = buf.length;
  let p = r.pos;
  for (let i = 0; i < n; i++) {
    const b = buf[p]!;
    // Inline the unsigned encodings a Python packer uses for token ids (fixint, uint8/16/32).
    if (b <= 0x7f && p < end) {
      out[i] = b;
      p += 1;
    } else if (b === 0xcd && p + 3 <= end) {
      out[i] = (buf[p + 1]! << 8) | buf[p + 2]!;
      p += 3;
    } else if (b === 0xce && p + 5 <= end) {
      out[i] = ((buf[p + 1]! << 24) | (buf[p + 2]! << 16) | (buf[p + 3]! << 8) | buf[p + 4]!) >>> 0;
      p += 5;
    } else if (b === 0xcc && p + 2 <= end) {
      out[i] = buf[p + 1]!;
      p += 2;
    } else {
      r.pos = p;
      const v = r.int();
      if (typeof v === 'number' && v >= 0 && v <= 0xffffffff) {
        out[i] = v;
        p = r.pos;
        continue;
      }
      // Not a u32: re-read the whole list generically so the shared checks report it.
      r.pos = start;
      return r.value();
    }
  }
  r.pos = p;
  return out.subarray(0, n);
}

function readHashes(r: MsgpackReader): unknown {
  const n = r.arrayHeader();
  if (n < 0) return r.value();
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = r.int();
    out[i] = v === undefined ? r.value(1) : v;
  }
  return out;
}

/** @internal Decodes vLLM batch bytes directly. */
export function decodeVllmBytes(ctx: DecodeContext, bytes: Uint8Array): { events: KvEvent[]; timestampMs?: number } {
  const r = new MsgpackReader(bytes);
  const events: KvEvent[] = [];
  let ts: unknown;
  let rank: unknown;
  let sawEvents = false;
  const n = r.arrayHeader();
  if (n >= 0) {
    if (n < 2) abort('BAD_SHAPE', `batch has ${n} fields, expected [ts, events, dpRank?]`);
    ts = r.value(1);
    readEvents(ctx, r, events);
    sawEvents = true;
    if (n >= 3) rank = r.value(1);
    for (let i = 3; i < n; i++) r.skip();
  } else {
    const m = r.mapHeader();
    if (m < 0) return abort('BAD_SHAPE', `batch is ${describe(r.value())}, expected an array or a map`);
    let dpr: unknown;
    let dp: unknown;
    for (let i = 0; i < m; i++) {
      const key = r.str();
      if (key === undefined) {
        r.skip();
        r.skip();
        continue;
      }
      if (key === 'events') {
        events.length = 0;
        readEvents(ctx, r, events);
        sawEvents = true;
      } else if (key === 'ts') ts = r.value(1);
      else if (key === 'data_parallel_rank') dpr = r.value(1);
      else if (key === 'dp_rank') dp = r.value(1);
      else r.skip();
    }
    rank = dpr ?? dp;
    if (!sawEvents) abort('BAD_SHAPE', 'events is missing, expected an array');
  }
  if (r.pos !== bytes.length) r.fail('MALFORMED', 'data after the batch');
  const dpRank = rank === null || rank === undefined ? (ctx.dpRank ?? 0) : toSafeUint(rank, 'data_parallel_rank');
  for (const e of events) e.dpRank = dpRank;
  let timestampMs: number | undefined;
  if (typeof ts === 'number' && Number.isFinite(ts)) timestampMs = ts * 1000;
  else if (typeof ts === 'bigint') timestampMs = Number(ts) * 1000;
  else if (ts !== null && ts !== undefined) abort('BAD_SHAPE', `ts is ${describe(ts)}`);
  return timestampMs === undefined ? { events } : { events, timestampMs };
}

function readEvents(ctx: DecodeContext, r: MsgpackReader, out: KvEvent[]): void {
  const n = r.arrayHeader();
  if (n < 0) abort('BAD_SHAPE', `events is ${describe(r.value())}, expected an array`);
  const workerId = ctx.workerId;
  if (workerId === undefined) abort('MISSING_WORKER', 'vLLM batches do not name their worker: pass workerId');
  const slots: unknown[] = new Array(MAX_FIELDS);
  for (let i = 0; i < n; i++) {
    let tag: unknown;
    let get: Fields;
    const fields = r.arrayHeader();
    if (fields >= 0) {
      if (fields === 0) abort('BAD_SHAPE', `event ${i} is an array of 0`);
      tag = r.value(2);
      const known = tag === 'BlockStored' ? STORED_FIELDS.length : tag === 'BlockRemoved' ? REMOVED_FIELDS.length : 0;
      slots.fill(undefined);
      for (let f = 0; f < fields - 1; f++) {
        if (f >= known) r.skip();
        else if (f === HASHES_INDEX) slots[f] = readHashes(r);
        else if (f === TOKENS_INDEX && tag === 'BlockStored') slots[f] = readTokens(r);
        else slots[f] = r.value(2);
      }
      get = (index) => slots[index];
    } else {
      const entries = r.mapHeader();
      if (entries < 0) abort('BAD_SHAPE', `event ${i} is ${describe(r.value(2))}`);
      // Known keys go to fixed slots (a dictionary-mode object per event is slow); others are skipped.
      slots.fill(undefined);
      tag = undefined;
      for (let f = 0; f < entries; f++) {
        const key = r.str();
        const slot = key === undefined ? undefined : NAME_SLOT.get(key);
        if (key === 'type') tag = r.value(2);
        else if (slot === undefined) {
          if (key === undefined) r.skip();
          r.skip();
        } else if (slot === HASHES_INDEX) slots[slot] = readHashes(r);
        else if (slot === TOKENS_INDEX) slots[slot] = readTokens(r);
        else slots[slot] = r.value(2);
      }
      get = (_index, name) => slots[NAME_SLOT.get(name)!];
    }
    if (typeof tag !== 'string') abort('BAD_SHAPE', `event ${i} type is ${describe(tag)}`);
    // dpRank is patched once the batch's rank field is read.
    if (tag === 'BlockStored') {
      const ev = decodeStored(ctx, get, workerId as string, 0);
      if (ev) out.push(ev);
    } else if (tag === 'BlockRemoved') {
      const ev = decodeRemoved(ctx, get, workerId as string, 0);
      if (ev) out.push(ev);
    } else if (tag === 'AllBlocksCleared') {
      out.push({ type: 'cleared', workerId: workerId as string, dpRank: 0 });
    } else {
      countIgnored(ctx, 'UNKNOWN_EVENT_TYPE');
    }
  }
}
