import type { BlockHasher } from '../hashing/types.js';
import type { ApplyErrorCode, ApplyResult, KvEvent } from '../radix/types.js';
import { decodeEvents } from './decode.js';
import type { DecodeError, DecodeErrorCode, IgnoreReason, IgnoredCounts, SkippedEventId } from './errors.js';
import { decodeMetrics, type MetricsResult } from './metrics.js';
import type { IngestTarget, MessageMeta, MetricsFormat } from './types.js';

/**
 * Why a worker's state was reset and a resync is wanted.
 *
 * - `gap`: event ids or transport sequence numbers jumped forward (messages were lost).
 * - `restart`: the sequence went back (the engine restarted).
 * - `decode-error`: a message from the worker could not be decoded.
 * - `transport-gap`: the transport lost its connection (`noteTransportGap`).
 */
export type ResyncReason = 'gap' | 'restart' | 'decode-error' | 'transport-gap';

/** A worker cache whose state was reset: ask its engine for a full dump or a replay. */
export interface ResyncNotice {
  /** The worker. */
  workerId: string;
  /** Its data-parallel rank. */
  dpRank: number;
  /** Why. */
  reason: ResyncReason;
  /** First sequence number / event id missed, when known (a replay may start there). */
  fromSeq?: bigint;
  /** The decode error code, for `decode-error`. */
  error?: DecodeErrorCode;
}

/** Why an event or message was rejected: a decode error, an apply error, or an event the target refused. */
export type RejectReason = DecodeErrorCode | ApplyErrorCode | 'INVALID_EVENT';

/** Counters of one worker cache. */
export interface WorkerIngestCounters {
  workerId: string;
  dpRank: number;
  /** Events applied without error. */
  applied: number;
  /** (block, tier) entries added or dropped, as the target reported. */
  entries: number;
  /** Rejections by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  gaps: number;
  restarts: number;
  resets: number;
  duplicates: number;
  /** Last event id seen (Dynamo, TensorRT-LLM). */
  lastEventId?: number;
  /** Engine-to-router lag of the last batch with a timestamp, in ms. */
  lagMs?: number;
}

/** Ingestion counters, totals and per worker. */
export interface IngestCounters {
  /** Messages offered to `ingest` (and batches to `ingestEvents`). */
  messages: number;
  /** Events applied without error. */
  applied: number;
  /** (block, tier) entries added or dropped, as the target reported. */
  entries: number;
  /** Rejections by reason (decode errors count messages; apply errors count events). */
  rejected: Partial<Record<RejectReason, number>>;
  /** Events skipped by reason (other KV groups, unknown types…). */
  ignored: IgnoredCounts;
  /** Forward jumps of event ids or sequence numbers. */
  gaps: number;
  /** Backward sequences (engine restarts). */
  restarts: number;
  /** Worker caches reset (a `cleared` applied on their behalf). */
  resets: number;
  /** Messages or events dropped as already seen. */
  duplicates: number;
  /** Resync notices fired. */
  resyncRequests: number;
  /** Metrics messages applied / rejected. */
  metrics: { applied: number; rejected: number };
  /** Lag of the last batch with an engine timestamp, in ms (now − engine ts). */
  lagMs?: number;
  /** Largest lag seen, in ms. */
  maxLagMs?: number;
  /** Per worker cache. */
  workers: WorkerIngestCounters[];
}

/** What one `ingest` / `ingestEvents` call did. */
export interface IngestResult {
  /** False when the message could not be decoded (nothing of it was applied). */
  ok: boolean;
  /** Events applied without error. */
  applied: number;
  /** Events rejected by the target (apply errors, invalid events). */
  rejected: number;
  /** Events or the message dropped as duplicates. */
  duplicates: number;
  /** The decode error, when `ok` is false. */
  error?: DecodeError;
}

/** Options of {@link createIngestor}. */
export interface IngestorOptions {
  /** The router's hasher (its block size is the router's). */
  hasher: BlockHasher;
  /** Hasher of a LoRA adapter, when the caller keeps them (see `decodeEvents`). */
  loraHasher?: (loraName: string) => BlockHasher | undefined;
  /**
   * Builds a hasher for a LoRA adapter, e.g. `(loraName) => createHasher({ blockSize, loraName })`.
   * A message with an adapter not seen before is rejected (`UNKNOWN_LORA`, worker reset, resync
   * requested) while the hasher is built in the background; the resync then brings the blocks back.
   */
  createLoraHasher?: (loraName: string) => Promise<BlockHasher>;
  /** TensorRT-LLM `lora_id` → adapter name. */
  trtllmLoraName?: (loraId: number) => string | undefined;
  /** Bound on a message's size; default 16 MiB. */
  maxMessageBytes?: number;
  /**
   * Reset the worker (and ask for a resync) when one of its messages cannot be decoded. Default
   * true: a lost message may have carried stores or removals, so the worker's state is suspect.
   */
  resetOnDecodeError?: boolean;
  /** Called when a worker was reset and wants a resync (also `onResync`). */
  onResync?: (notice: ResyncNotice) => void;
  /** Clock for lag, ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/** Decodes messages and applies them to an index or router, tracking sequence and health. */
export interface Ingestor {
  /**
   * Decodes one message and applies it whole (decode everything first, then apply). Never throws
   * on bad bytes: a decode error is counted, resets the worker and fires a resync notice.
   */
  ingest(bytes: Uint8Array, meta: MessageMeta): IngestResult;
  /** Applies already-decoded events, with the same event-id tracking as `ingest`. */
  ingestEvents(events: readonly KvEvent[], meta?: Partial<MessageMeta>): IngestResult;
  /** Decodes pushed load metrics and hands them to the target's `updateLoad` (when it has one). */
  ingestMetrics(bytes: Uint8Array, meta: { format: MetricsFormat; workerId?: string; dpRank?: number }): MetricsResult;
  /** A transport lost messages: reset `workerId` (every rank), or every known worker, and ask for resyncs. */
  noteTransportGap(workerId?: string): void;
  /** Registers a resync callback; returns a function that unregisters it. */
  onResync(callback: (notice: ResyncNotice) => void): () => void;
  /** Registers the hasher of a LoRA adapter. */
  addLoraHasher(loraName: string, hasher: BlockHasher): void;
  /** A snapshot of the counters. */
  counters(): IngestCounters;
}

interface WorkerState {
  workerId: string;
  dpRank: number;
  applied: number;
  entries: number;
  rejected: Partial<Record<RejectReason, number>>;
  gaps: number;
  restarts: number;
  resets: number;
  duplicates: number;
  lastEventId: number | undefined;
  lagMs: number | undefined;
}

type Step = 'first' | 'next' | 'gap' | 'restart' | 'duplicate';

/** Classifies `cur` after `last`: backwards moves are restarts or duplicates depending on the source. */
function classify(last: bigint | undefined, cur: bigint, backwardsIsRestart: boolean): Step {
  if (last === undefined) return 'first';
  if (cur === last + 1n) return 'next';
  if (cur > last + 1n) return 'gap';
  if (cur === last) return 'duplicate';
  if (cur === 0n) return 'restart';
  return backwardsIsRestart ? 'restart' : 'duplicate';
}

function bump<K extends string>(record: Partial<Record<K, number>>, key: K, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

/**
 * Creates an ingestor that feeds `target` (a `RadixIndex` or a router).
 *
 * Per worker cache `(workerId, dpRank)` it tracks Dynamo / TensorRT-LLM event ids; per transport
 * stream (`meta.transport`, `meta.workerId`, `meta.dpRank`) it tracks `meta.seq`. A forward jump, a
 * backwards sequence (an engine restart: back to 0, or any backward move except on `jetstream`,
 * whose redeliveries are duplicates) or a decode error resets the worker's state (a `cleared` event
 * is applied for it) and fires a {@link ResyncNotice}; a repeated id or sequence is dropped and
 * counted. Apply errors (`PARENT_NOT_FOUND`…) are counted by reason and do not stop the batch.
 */
export function createIngestor(target: IngestTarget, options: IngestorOptions): Ingestor {
  if (typeof target !== 'object' || target === null) throw new TypeError('target must be an index or a router');
  const apply: (e: KvEvent) => ApplyResult =
    'applyEvent' in target && typeof target.applyEvent === 'function'
      ? (e) => target.applyEvent(e)
      : 'apply' in target && typeof target.apply === 'function'
        ? (e) => (target as { apply(event: KvEvent): ApplyResult }).apply(e)
        : (() => {
            throw new TypeError('target must have apply(event) or applyEvent(event)');
          })();
  const updateLoad = 'updateLoad' in target && typeof target.updateLoad === 'function' ? target.updateLoad.bind(target) : undefined;
  if (typeof options !== 'object' || options === null || !options.hasher) throw new TypeError('options.hasher is required');
  const { hasher } = options;
  const now = options.now ?? Date.now;

  const workers = new Map<string, WorkerState>();
  const ranksOf = new Map<string, Set<number>>();
  const seqs = new Map<string, bigint>();
  const engineBlockSizes = new Map<string, number>();
  const loraHashers = new Map<string, BlockHasher>();
  const pendingLora = new Set<string>();
  const callbacks = new Set<(n: ResyncNotice) => void>();
  if (options.onResync) callbacks.add(options.onResync);

  const totals = {
    messages: 0,
    applied: 0,
    entries: 0,
    rejected: {} as Partial<Record<RejectReason, number>>,
    ignored: {} as IgnoredCounts,
    gaps: 0,
    restarts: 0,
    resets: 0,
    duplicates: 0,
    resyncRequests: 0,
    metrics: { applied: 0, rejected: 0 },
    lagMs: undefined as number | undefined,
    maxLagMs: undefined as number | undefined,
  };

  const loraHasher = (name: string): BlockHasher | undefined => options.loraHasher?.(name) ?? loraHashers.get(name);

  function worker(workerId: string, dpRank: number): WorkerState {
    const key = `${workerId}\u0000${dpRank}`;
    let w = workers.get(key);
    if (!w) {
      w = { workerId, dpRank, applied: 0, entries: 0, rejected: {}, gaps: 0, restarts: 0, resets: 0, duplicates: 0, lastEventId: undefined, lagMs: undefined };
      workers.set(key, w);
      let ranks = ranksOf.get(workerId);
      if (!ranks) ranksOf.set(workerId, (ranks = new Set()));
      ranks.add(dpRank);
    }
    return w;
  }

  function notify(notice: ResyncNotice): void {
    totals.resyncRequests++;
    for (const cb of callbacks) {
      try {
        cb(notice);
      } catch {
        // A failing callback must not break ingestion.
      }
    }
  }

  function applyOne(w: WorkerState, e: KvEvent): boolean {
    let r: ApplyResult;
    try {
      r = apply(e);
    } catch {
      bump(w.rejected, 'INVALID_EVENT');
      bump(totals.rejected, 'INVALID_EVENT');
      return false;
    }
    w.entries += r.applied;
    totals.entries += r.applied;
    if (r.error) {
      bump(w.rejected, r.error);
      bump(totals.rejected, r.error);
      return false;
    }
    w.applied++;
    totals.applied++;
    return true;
  }

  /** Clears one worker cache and asks for a resync. */
  function reset(workerId: string, dpRank: number, reason: ResyncReason, extra?: { fromSeq?: bigint; error?: DecodeErrorCode }): void {
    const w = worker(workerId, dpRank);
    w.resets++;
    totals.resets++;
    try {
      const r = apply({ type: 'cleared', workerId, dpRank });
      w.entries += r.applied;
      totals.entries += r.applied;
    } catch {
      bump(w.rejected, 'INVALID_EVENT');
      bump(totals.rejected, 'INVALID_EVENT');
    }
    const notice: ResyncNotice = { workerId, dpRank, reason };
    if (extra?.fromSeq !== undefined) notice.fromSeq = extra.fromSeq;
    if (extra?.error !== undefined) notice.error = extra.error;
    notify(notice);
  }

  /** The caches a stream covers: one rank, or every known rank of the worker (rank 0 if none). */
  function ranksFor(workerId: string, dpRank: number | undefined): number[] {
    if (dpRank !== undefined) return [dpRank];
    const known = ranksOf.get(workerId);
    return known && known.size > 0 ? [...known] : [0];
  }

  /** Sequence check of a message; false when it must be dropped. */
  function checkSeq(meta: Partial<MessageMeta>): boolean {
    if (meta.seq === undefined || meta.replay || meta.workerId === undefined) return true;
    const key = `${meta.transport ?? ''}\u0000${meta.workerId}\u0000${meta.dpRank ?? ''}`;
    const last = seqs.get(key);
    const step = classify(last, meta.seq, meta.transport !== 'jetstream');
    if (step === 'duplicate') {
      totals.duplicates++;
      for (const r of ranksFor(meta.workerId, meta.dpRank)) worker(meta.workerId, r).duplicates++;
      return false;
    }
    seqs.set(key, meta.seq);
    if (step === 'gap' || step === 'restart') {
      if (step === 'gap') totals.gaps++;
      else totals.restarts++;
      for (const r of ranksFor(meta.workerId, meta.dpRank)) {
        const w = worker(meta.workerId, r);
        if (step === 'gap') w.gaps++;
        else w.restarts++;
        w.lastEventId = undefined;
        reset(meta.workerId, r, step, { fromSeq: step === 'gap' ? last! + 1n : 0n });
      }
    }
    return true;
  }

  /** Event-id check of one event of `w`; false when it is a duplicate to drop. */
  function trackId(w: WorkerState, id: number, result: IngestResult): boolean {
    const last = w.lastEventId;
    const step = Number.isSafeInteger(id) ? classify(last === undefined ? undefined : BigInt(last), BigInt(id), false) : 'first';
    if (step === 'duplicate') {
      w.duplicates++;
      totals.duplicates++;
      result.duplicates++;
      return false;
    }
    if (step === 'gap' || step === 'restart') {
      if (step === 'gap') {
        w.gaps++;
        totals.gaps++;
      } else {
        w.restarts++;
        totals.restarts++;
      }
      reset(w.workerId, w.dpRank, step, { fromSeq: step === 'gap' ? BigInt(last! + 1) : 0n });
    }
    w.lastEventId = id;
    return true;
  }

  function applyEvents(events: readonly KvEvent[], meta: Partial<MessageMeta>, result: IngestResult, skipped?: readonly SkippedEventId[]): void {
    // Events of one message that share an event id (a TensorRT-LLM store split by tier) share its verdict.
    let prevKey: string | undefined;
    let prevId: number | undefined;
    let prevAccepted = true;
    let s = 0;
    for (let i = 0; i <= events.length; i++) {
      // Skipped events still count for id tracking, in their place.
      if (skipped !== undefined && !meta.replay) {
        for (; s < skipped.length && skipped[s]!.before <= i; s++) {
          const k = skipped[s]!;
          trackId(worker(k.workerId, k.dpRank), k.eventId, result);
          prevKey = undefined;
        }
      }
      if (i === events.length) break;
      const e = events[i]!;
      if (typeof e !== 'object' || e === null || typeof e.workerId !== 'string') {
        bump(totals.rejected, 'INVALID_EVENT');
        result.rejected++;
        continue;
      }
      const dpRank = e.dpRank ?? 0;
      const w = worker(e.workerId, typeof dpRank === 'number' ? dpRank : 0);
      const id = e.eventId;
      if (id !== undefined && !meta.replay) {
        const key = `${e.workerId}\u0000${dpRank}`;
        if (key === prevKey && id === prevId) {
          if (!prevAccepted) continue;
        } else {
          prevKey = key;
          prevId = id;
          prevAccepted = trackId(w, id, result);
          if (!prevAccepted) continue;
        }
      }
      if (applyOne(w, e)) result.applied++;
      else result.rejected++;
    }
  }

  function ingest(bytes: Uint8Array, meta: MessageMeta): IngestResult {
    if (typeof meta !== 'object' || meta === null) throw new TypeError('meta must be an object with a format');
    totals.messages++;
    const result: IngestResult = { ok: true, applied: 0, rejected: 0, duplicates: 0 };
    if (!checkSeq(meta)) {
      result.duplicates = 1;
      return result;
    }
    const engineBlockSize = meta.workerId === undefined ? undefined : engineBlockSizes.get(meta.workerId);
    const decoded = decodeEvents(bytes, {
      format: meta.format,
      workerId: meta.workerId,
      dpRank: meta.dpRank,
      hasher,
      loraHasher,
      trtllmLoraName: options.trtllmLoraName,
      engineBlockSize,
      maxMessageBytes: options.maxMessageBytes,
    });
    if (!decoded.ok) {
      const err = decoded.error;
      result.ok = false;
      result.error = err;
      bump(totals.rejected, err.reason);
      const workerId = err.workerId ?? meta.workerId;
      if (workerId !== undefined) {
        const ranks = ranksFor(workerId, err.dpRank ?? meta.dpRank);
        for (const r of ranks) bump(worker(workerId, r).rejected, err.reason);
        if (options.resetOnDecodeError !== false) for (const r of ranks) reset(workerId, r, 'decode-error', { error: err.reason });
      }
      if (err.reason === 'UNKNOWN_LORA' && err.loraName !== undefined) buildLoraHasher(err.loraName);
      return result;
    }
    if (decoded.engineBlockSize !== undefined && meta.workerId !== undefined) engineBlockSizes.set(meta.workerId, decoded.engineBlockSize);
    for (const [reason, n] of Object.entries(decoded.ignored) as [IgnoreReason, number][]) bump(totals.ignored, reason, n);
    if (decoded.timestampMs !== undefined) {
      const lag = now() - decoded.timestampMs;
      totals.lagMs = lag;
      if (totals.maxLagMs === undefined || lag > totals.maxLagMs) totals.maxLagMs = lag;
      const first = decoded.events[0];
      if (first) worker(first.workerId, first.dpRank ?? 0).lagMs = lag;
    }
    applyEvents(decoded.events, meta, result, decoded.skippedIds);
    return result;
  }

  function buildLoraHasher(loraName: string): void {
    const factory = options.createLoraHasher;
    if (!factory || pendingLora.has(loraName) || loraHashers.has(loraName) || loraName.startsWith('lora_id:')) return;
    pendingLora.add(loraName);
    Promise.resolve()
      .then(() => factory(loraName))
      .then(
        (h) => {
          loraHashers.set(loraName, h);
          pendingLora.delete(loraName);
        },
        () => pendingLora.delete(loraName),
      );
  }

  function ingestEvents(events: readonly KvEvent[], meta: Partial<MessageMeta> = {}): IngestResult {
    if (!Array.isArray(events)) throw new TypeError('events must be an array');
    totals.messages++;
    const result: IngestResult = { ok: true, applied: 0, rejected: 0, duplicates: 0 };
    if (!checkSeq(meta)) {
      result.duplicates = 1;
      return result;
    }
    applyEvents(events, meta, result);
    return result;
  }

  function ingestMetrics(bytes: Uint8Array, meta: { format: MetricsFormat; workerId?: string; dpRank?: number }): MetricsResult {
    const r = decodeMetrics(bytes, { format: meta.format, workerId: meta.workerId, dpRank: meta.dpRank, maxMessageBytes: options.maxMessageBytes });
    if (!r.ok) {
      totals.metrics.rejected++;
      bump(totals.rejected, r.error.reason);
      return r;
    }
    if (r.workerId === undefined) {
      totals.metrics.rejected++;
      bump(totals.rejected, 'MISSING_WORKER');
      return r;
    }
    try {
      updateLoad?.(r.workerId, r.dpRank ?? 0, r.metrics);
      totals.metrics.applied++;
    } catch {
      totals.metrics.rejected++;
    }
    return r;
  }

  function noteTransportGap(workerId?: string): void {
    const targets: WorkerState[] = [];
    for (const w of workers.values()) if (workerId === undefined || w.workerId === workerId) targets.push(w);
    if (workerId !== undefined && targets.length === 0) targets.push(worker(workerId, 0));
    // Sequence tracking restarts: the next message is a first sight, not another gap.
    for (const key of [...seqs.keys()]) if (workerId === undefined || key.split('\u0000')[1] === workerId) seqs.delete(key);
    for (const w of targets) {
      w.lastEventId = undefined;
      reset(w.workerId, w.dpRank, 'transport-gap');
    }
  }

  function counters(): IngestCounters {
    const out: IngestCounters = {
      messages: totals.messages,
      applied: totals.applied,
      entries: totals.entries,
      rejected: { ...totals.rejected },
      ignored: { ...totals.ignored },
      gaps: totals.gaps,
      restarts: totals.restarts,
      resets: totals.resets,
      duplicates: totals.duplicates,
      resyncRequests: totals.resyncRequests,
      metrics: { ...totals.metrics },
      workers: [...workers.values()].map((w) => {
        const c: WorkerIngestCounters = {
          workerId: w.workerId,
          dpRank: w.dpRank,
          applied: w.applied,
          entries: w.entries,
          rejected: { ...w.rejected },
          gaps: w.gaps,
          restarts: w.restarts,
          resets: w.resets,
          duplicates: w.duplicates,
        };
        if (w.lastEventId !== undefined) c.lastEventId = w.lastEventId;
        if (w.lagMs !== undefined) c.lagMs = w.lagMs;
        return c;
      }),
    };
    if (totals.lagMs !== undefined) out.lagMs = totals.lagMs;
    if (totals.maxLagMs !== undefined) out.maxLagMs = totals.maxLagMs;
    return out;
  }

  return {
    ingest,
    ingestEvents,
    ingestMetrics,
    noteTransportGap,
    onResync(callback) {
      if (typeof callback !== 'function') throw new TypeError('onResync expects a function');
      callbacks.add(callback);
      return () => callbacks.delete(callback);
    },
    addLoraHasher(loraName, h) {
      if (typeof loraName !== 'string' || loraName === '') throw new TypeError('loraName must be a non-empty string');
      if (!h || h.blockSize !== hasher.blockSize) throw new TypeError(`the LoRA hasher's block size must be ${hasher.blockSize}`);
      loraHashers.set(loraName, h);
    },
    counters,
  };
}
