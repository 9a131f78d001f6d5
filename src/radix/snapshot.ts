/**
 * Snapshot envelope of {@link RadixIndex}: a 24-byte header (magic, version, body length, body checksum,
 * header check)
 * and a body of length-prefixed typed arrays copied as they are (little-endian, 4-byte aligned), then
 * the cache table as JSON. Decoding checks the envelope and every section bound; the index then
 * checks its structural invariants before it is handed out.
 *
 * @internal
 */

/** The index state in sections. @internal */
export interface SnapshotParts {
  scalars: number[];
  hFree: Int32Array;
  i32: Int32Array[];
  u32: Uint32Array[];
  u8: Uint8Array[];
  /** Per cache slot: `[workerId, dpRank, paths held]`, or null for a free slot. */
  slots: Array<[string, number, number] | null>;
}

const MAGIC = 0x5852564b; // "KVRX" little-endian
const VERSION = 1;
const HEADER = 24;

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('kvrouter radix snapshots assume a little-endian platform');
}

/** Four-lane multiplicative checksum of 32-bit words (catches flips, truncation and reordering). */
function checksum(words: Uint32Array): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  let c = 0xc2b2ae35;
  let d = 0x27d4eb2f;
  const n = words.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    b = Math.imul(b ^ words[i + 1]!, 0x01000193);
    c = Math.imul(c ^ words[i + 2]!, 0x01000193);
    d = Math.imul(d ^ words[i + 3]!, 0x01000193);
    a = (a << 13) | (a >>> 19);
    b = (b << 13) | (b >>> 19);
    c = (c << 13) | (c >>> 19);
    d = (d << 13) | (d >>> 19);
  }
  for (; i < n; i++) a = Math.imul(a ^ words[i]!, 0x01000193);
  let h = Math.imul(a ^ (b >>> 7), 0x85ebca6b) ^ Math.imul(c ^ (d >>> 11), 0xc2b2ae35) ^ n;
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Serializes the parts into one buffer. @internal */
export function encodeSnapshot(p: SnapshotParts): Uint8Array {
  const slotsJson = new TextEncoder().encode(JSON.stringify(p.slots));
  let size = 4 + p.scalars.length * 4 + p.hFree.byteLength;
  for (const a of p.i32) size += 4 + a.byteLength;
  for (const a of p.u32) size += 4 + a.byteLength;
  for (const a of p.u8) size += 4 + pad4(a.byteLength);
  size += 4 + pad4(slotsJson.byteLength);
  const out = new Uint8Array(HEADER + size);
  const view = new DataView(out.buffer);
  let at = HEADER;
  const u32 = (x: number): void => {
    view.setUint32(at, x >>> 0, true);
    at += 4;
  };
  const bytes = (a: ArrayBufferView, len: number): void => {
    u32(len);
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += pad4(a.byteLength);
  };
  u32(p.scalars.length);
  for (const x of p.scalars) view.setInt32((at += 4) - 4, x, true);
  out.set(new Uint8Array(p.hFree.buffer, p.hFree.byteOffset, p.hFree.byteLength), at);
  at += p.hFree.byteLength;
  for (const a of p.i32) bytes(a, a.length);
  for (const a of p.u32) bytes(a, a.length);
  for (const a of p.u8) bytes(a, a.length);
  bytes(slotsJson, slotsJson.length);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, size % 0x100000000, true);
  view.setUint32(12, Math.floor(size / 0x100000000), true);
  view.setUint32(16, checksum(new Uint32Array(out.buffer, HEADER, size / 4)), true);
  view.setUint32(20, checksum(new Uint32Array(out.buffer, 0, 5)), true);
  return out;
}

/** Parses and checks a buffer made by {@link encodeSnapshot}; throws an Error on anything else. @internal */
export function decodeSnapshot(input: Uint8Array): SnapshotParts {
  const fail = (what: string): never => {
    throw new Error(`RadixIndex.restore: ${what}`);
  };
  if (!(input instanceof Uint8Array)) throw new TypeError('RadixIndex.restore: expected a Uint8Array');
  if (input.byteLength < HEADER) fail(`not a RadixIndex snapshot (${input.byteLength} bytes)`);
  // Typed views need 4-byte alignment: copy when the caller's bytes are not aligned.
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('not a RadixIndex snapshot (bad magic)');
  if (checksum(new Uint32Array(bytes.buffer, bytes.byteOffset, 5)) !== view.getUint32(20, true)) {
    fail('header checksum mismatch (corrupted snapshot)');
  }
  const version = view.getUint32(4, true);
  if (version !== VERSION) fail(`unsupported snapshot version ${version} (expected ${VERSION})`);
  const size = view.getUint32(8, true) + view.getUint32(12, true) * 0x100000000;
  if (size !== bytes.byteLength - HEADER || size % 4 !== 0) {
    fail(`truncated or padded snapshot (body ${bytes.byteLength - HEADER} bytes, header says ${size})`);
  }
  const body = new Uint32Array(bytes.buffer, bytes.byteOffset + HEADER, size / 4);
  if (checksum(body) !== view.getUint32(16, true)) fail('checksum mismatch (corrupted snapshot)');
  let at = HEADER;
  const end = bytes.byteLength;
  const need = (n: number): void => {
    if (n < 0 || at + n > end) fail('section out of bounds');
  };
  const u32 = (): number => {
    need(4);
    const x = view.getUint32(at, true);
    at += 4;
    return x;
  };
  const nScalars = u32();
  if (nScalars > 64) fail('bad scalar count');
  const scalars: number[] = [];
  for (let i = 0; i < nScalars; i++) {
    need(4);
    scalars.push(view.getInt32(at, true));
    at += 4;
  }
  need(17 * 4);
  const hFree = new Int32Array(bytes.buffer, bytes.byteOffset + at, 17);
  at += 17 * 4;
  const i32 = (): Int32Array => {
    const n = u32();
    need(n * 4);
    const a = new Int32Array(bytes.buffer, bytes.byteOffset + at, n);
    at += n * 4;
    return a;
  };
  const w32 = (): Uint32Array => {
    const n = u32();
    need(n * 4);
    const a = new Uint32Array(bytes.buffer, bytes.byteOffset + at, n);
    at += n * 4;
    return a;
  };
  const b8 = (): Uint8Array => {
    const n = u32();
    need(pad4(n));
    const a = new Uint8Array(bytes.buffer, bytes.byteOffset + at, n);
    at += pad4(n);
    return a;
  };
  const i32s: Int32Array[] = [];
  for (let i = 0; i < 10; i++) i32s.push(i32());
  const u32s: Uint32Array[] = [];
  for (let i = 0; i < 5; i++) u32s.push(w32());
  const u8s: Uint8Array[] = [b8(), b8()];
  const json = b8();
  if (at !== end) fail('trailing bytes');
  let slots: unknown;
  try {
    slots = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    fail('bad cache table');
  }
  if (!Array.isArray(slots) || slots.length > 0x10000) fail('bad cache table');
  for (const row of slots as unknown[]) {
    if (row !== null && !(Array.isArray(row) && row.length === 3)) fail('bad cache row');
  }
  return { scalars, hFree, i32: i32s, u32: u32s, u8: u8s, slots: slots as SnapshotParts['slots'] };
}
