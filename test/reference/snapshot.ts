/**
 * Snapshot envelope of the reference index: one header line (magic, version, body length, FNV-1a
 * checksum of the body) and a JSON body. Decoding checks everything before the index is built, so a
 * damaged or foreign buffer throws instead of yielding a different index.
 */

/** The reference index state as plain JSON. Node 0 is the root; node i+1 is `nodes[i]`. */
export interface SnapshotData {
  /** `[parentId, tokensHash]`, parents before children. */
  nodes: Array<[number, string]>;
  caches: Array<{
    workerId: string;
    dpRank: number;
    /** `[nodeId, tierMask]`. */
    entries: Array<[number, number]>;
    /** `[blockHash, nodeId]`. */
    names: Array<[string, number]>;
  }>;
}

const MAGIC = 'KVROUTER-REFERENCE-INDEX';
const VERSION = 1;
const U64_DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const U64_LIMIT = 1n << 64n;

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

/** Encodes state into snapshot bytes. */
export function encodeSnapshot(data: SnapshotData): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(data));
  const header = new TextEncoder().encode(`${MAGIC} ${VERSION} ${body.length} ${fnv1a(body).toString(16)}\n`);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

function fail(why: string): never {
  throw new Error(`ReferenceIndex.restore: ${why}`);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isU64Text(v: unknown): v is string {
  return typeof v === 'string' && U64_DECIMAL.test(v) && BigInt(v) < U64_LIMIT;
}

function isPair(v: unknown, first: (x: unknown) => boolean, second: (x: unknown) => boolean): boolean {
  return Array.isArray(v) && v.length === 2 && first(v[0]) && second(v[1]);
}

const isMask = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 7;

/** Decodes and shape-checks snapshot bytes; throws an Error naming the problem. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotData {
  if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array');
  const newline = bytes.indexOf(0x0a);
  if (newline < 0 || newline > 200) fail('not a reference index snapshot (no header)');
  const header = new TextDecoder().decode(bytes.subarray(0, newline)).split(' ');
  if (header.length !== 4 || header[0] !== MAGIC) fail('not a reference index snapshot (bad magic)');
  if (header[1] !== String(VERSION)) fail(`unsupported version ${header[1]}`);
  const body = bytes.subarray(newline + 1);
  if (header[2] !== String(body.length)) fail(`body is ${body.length} bytes, header says ${header[2]} (truncated?)`);
  if (header[3] !== fnv1a(body).toString(16)) fail('checksum mismatch (corrupted)');
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    fail(`body is not JSON (${(e as Error).message})`);
  }
  const d = data as Partial<SnapshotData> | null;
  if (typeof d !== 'object' || d === null || !Array.isArray(d.nodes) || !Array.isArray(d.caches)) fail('bad body');
  d.nodes.forEach((n, i) => {
    if (!isPair(n, isId, isU64Text) || n[0] > i) fail(`bad node ${i}`);
  });
  for (const c of d.caches) {
    if (typeof c !== 'object' || c === null) fail('bad cache');
    if (typeof c.workerId !== 'string' || !isId(c.dpRank)) fail('bad cache key');
    if (!Array.isArray(c.entries) || !c.entries.every((e) => isPair(e, isId, isMask))) fail('bad entries');
    if (!Array.isArray(c.names) || !c.names.every((n) => isPair(n, isU64Text, isId))) fail('bad names');
  }
  return d as SnapshotData;
}
