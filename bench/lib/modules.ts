/**
 * Optional components, loaded at run time so the harness runs (and reports "skipped") while a
 * component is still being written. Each loader returns the export or a reason string.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchIndex } from '../baselines/types.js';

/** A loaded export, or why it is not available. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Imports `rel` (relative to the repository root, `.js` form) from the build or the sources. */
async function importModule(rel: string): Promise<Loaded<Record<string, unknown>>> {
  // This file is bench/lib/modules.{ts,js}: the repository (or build/) root is two levels up.
  const root = new URL('../../', import.meta.url);
  const js = new URL(rel, root);
  const ts = new URL(rel.replace(/\.js$/, '.ts'), root);
  const target = existsSync(fileURLToPath(js)) ? js : existsSync(fileURLToPath(ts)) ? ts : null;
  if (target === null) return { ok: false, reason: `${rel} not available yet` };
  try {
    return { ok: true, value: (await import(pathToFileURL(fileURLToPath(target)).href)) as Record<string, unknown> };
  } catch (e) {
    return { ok: false, reason: `${rel} failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}

async function loadExport<T>(rel: string, name: string, kind: 'function'): Promise<Loaded<T>> {
  const mod = await importModule(rel);
  if (!mod.ok) return mod;
  const v = mod.value[name];
  if (typeof v !== kind) return { ok: false, reason: `${rel} does not export ${name} yet` };
  return { ok: true, value: v as T };
}

/** A class of index with the `RadixIndex` API (constructor and static `restore`). */
export interface IndexClass {
  new (options?: { initialBlocks?: number; initialNodes?: number }): BenchIndex;
  restore?(bytes: Uint8Array): BenchIndex;
}

/** `RadixIndex` from src/radix. */
export function loadRadixIndex(): Promise<Loaded<IndexClass>> {
  return loadExport<IndexClass>('src/radix/index.js', 'RadixIndex', 'function');
}

/** `ReferenceIndex` from test/reference. */
export function loadReferenceIndex(): Promise<Loaded<IndexClass>> {
  return loadExport<IndexClass>('test/reference/index.js', 'ReferenceIndex', 'function');
}

/** The router surface the harness uses (structural, so it compiles before src/scoring exists). */
export interface BenchRouter {
  addWorker(spec: { workerId: string; dpRanks?: number }): unknown;
  applyEvent(event: import('../../src/radix/types.js').KvEvent): unknown;
  pickEndpoint(request: { tokens: ArrayLike<number> }): unknown;
}

/** `createRouter` from src/scoring. */
export function loadCreateRouter(): Promise<Loaded<(config: Record<string, unknown>) => Promise<BenchRouter> | BenchRouter>> {
  return loadExport('src/scoring/index.js', 'createRouter', 'function');
}

/** Events decode path from src/events: `decodeEvents` and (to make the raw bytes) `encodeVllmBatch`. */
export interface EventsModule {
  decodeEvents: (bytes: Uint8Array, options: Record<string, unknown>) => unknown;
  encodeVllmBatch: (...args: unknown[]) => Uint8Array;
}

/** Loads the events decoders, if both exist. */
export async function loadEvents(): Promise<Loaded<EventsModule>> {
  const mod = await importModule('src/events/index.js');
  if (!mod.ok) return mod;
  const { decodeEvents, encodeVllmBatch } = mod.value;
  if (typeof decodeEvents !== 'function') return { ok: false, reason: 'src/events does not export decodeEvents yet' };
  if (typeof encodeVllmBatch !== 'function') return { ok: false, reason: 'src/events does not export encodeVllmBatch yet' };
  return { ok: true, value: mod.value as unknown as EventsModule };
}
