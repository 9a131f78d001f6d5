/**
 * Structural invariants of a `RadixIndex`: checked after `restore` (a snapshot is trusted only
 * once its structure is), and by white-box tests after every step. Not on any hot path.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import type { ChildTable } from './child-table.js';
import { CHUNK_SIZES, SLOT_MASK, tiersOf, type HolderPool } from './holders.js';
import type { AliasTable, NameTable } from './name-tables.js';
import type { NodeTable } from './nodes.js';

/** The parts of an index the invariants speak of. @internal */
export interface IndexState {
  readonly nodes: NodeTable;
  readonly blocks: BlockPool;
  readonly holders: HolderPool;
  readonly children: ChildTable;
  readonly names: NameTable;
  readonly aliases: AliasTable;
  /** Per slot: the cache is known. */
  readonly slotLive: readonly boolean[];
  /** Per slot: paths held (any tier). */
  readonly slotPaths: readonly number[];
  /** Per slot: alias rows. */
  readonly slotAliases: readonly number[];
}

/** Checks every structural invariant of an index; throws an Error naming the first broken one. @internal */
export function verifyIndex(x: IndexState): void {
  const { nodes, blocks, holders, slotLive, slotPaths } = x;
  if (!(nodes.top >= 0 && blocks.top >= 0 && holders.top >= 0 && nodes.top <= nodes.start.length)) broken('counts');
  const paths = verifyNodes(x);
  verifyFreeLists(x);
  verifyNames(x);
  for (let s = 0; s < slotLive.length; s++) if (slotLive[s] && paths[s] !== slotPaths[s]) broken('paths per cache');
}

/** Node runs, parents, child counts, holder lists and the child table; returns paths held per slot. */
function verifyNodes(x: IndexState): Float64Array {
  const { nodes, blocks, holders, children, slotLive } = x;
  const nodeTop = nodes.top;
  const poolTop = blocks.top;
  const slotCount = slotLive.length;
  const { start: nStart, len: nLen, parent: nParent, hOff: nHOff, hLen: nHLen, hCap: nHCap } = nodes;
  const bNode = blocks.node;
  const hp = holders.words;
  const kids = new Int32Array(nodeTop);
  const paths = new Float64Array(slotCount);
  let rootKids = 0;
  let live = 0;
  let blockCount = 0;
  for (let n = 0; n < nodeTop; n++) {
    const len = nLen[n]!;
    if (len < 0) broken('node length');
    if (len === 0) continue;
    live++;
    const st = nStart[n]!;
    if (st < 0 || st + len > poolTop) broken('node run out of the pool');
    for (let b = st; b < st + len; b++) if (bNode[b] !== n) broken('block owner');
    blockCount += len;
    const pb = nParent[n]!;
    if (pb < -1 || pb >= poolTop) broken('parent block');
    if (pb >= 0) {
      const p = bNode[pb]!;
      if (p < 0 || nStart[p]! + nLen[p]! - 1 !== pb) broken('parent is not a node end');
      kids[p]!++;
    } else rootKids++;
    const off = nHOff[n]!;
    const hl = nHLen[n]!;
    const cap = nHCap[n]!;
    if (cap > 16 || hl < 0 || hl > 1 << cap || off < 0 || off + (1 << cap) > holders.top) broken('holder list bounds');
    let prev = -1;
    for (let i = off; i < off + hl; i++) {
      const v = hp[i]!;
      const s = v & SLOT_MASK;
      if (s <= prev || s >= slotCount || !slotLive[s]) broken('holder slot');
      prev = s;
      if (v >>> 20 === 0) broken('holder without a name');
      if (tiersOf(v) !== 0) paths[s]! += len;
    }
    if (children.lookup(pb, blocks.lo[st]!, blocks.hi[st]!, nodes, blocks) !== n) broken('child table');
  }
  if (live !== nodes.live || rootKids !== nodes.rootKids) broken('node counts');
  if (blockCount + blocks.holes !== poolTop) broken('free block count');
  for (let b = 0; b < poolTop; b++) {
    const n = bNode[b]!;
    if (n < -1 || n >= nodeTop || (n >= 0 && nLen[n] === 0)) broken('block owner');
  }
  for (let n = 0; n < nodeTop; n++) {
    if (nLen[n]! > 0 && kids[n] !== nodes.kids[n]) broken('child counts');
    if (nLen[n]! > 0 && nHLen[n] === 0 && nodes.kids[n] === 0) broken('dead node');
  }
  if (children.count !== live) broken('child table count');
  let seen = 0;
  for (let i = 0; i < children.slots.length; i++) {
    const c = children.slots[i]!;
    if (c === -1) continue;
    if (c < 0 || c >= nodeTop || nLen[c] === 0) broken('child table entry');
    seen++;
  }
  if (seen !== live) broken('child table entries');
  return paths;
}

function verifyFreeLists(x: IndexState): void {
  const { nodes, holders } = x;
  let freeNodes = 0;
  for (let n = nodes.free; n !== -1; n = nodes.start[n]!) {
    if (n < 0 || n >= nodes.top || nodes.len[n] !== 0 || ++freeNodes > nodes.top) broken('node free list');
  }
  if (freeNodes + nodes.live !== nodes.top) broken('node free list length');
  for (let c = 0; c < CHUNK_SIZES; c++) {
    let steps = 0;
    for (let o = holders.free[c]!; o !== -1; ) {
      if (o < 0 || o + (1 << c) > holders.top || ++steps > holders.top) broken('holder free list');
      o = holders.nextFree(o);
    }
  }
}

/** Canonical names: every flagged block is in the global table at a reachable slot, and nothing else is. */
function verifyNames(x: IndexState): void {
  const { nodes, blocks, holders, names, aliases, slotLive, slotAliases } = x;
  const poolTop = blocks.top;
  const { canon: bCanon, node: bNode } = blocks;
  const gt = names.slots;
  let canon = 0;
  for (let b = 0; b < poolTop; b++) {
    const f = bCanon[b]!;
    if (f > 1 || (f === 1 && bNode[b]! < 0)) broken('canonical flag');
    canon += f;
  }
  // Every entry is a distinct canonical block reachable from its home slot (by the stored name hash;
  // accidental damage to the hashes themselves is the checksum's job).
  const slots = gt.length >> 1;
  const mask = slots - 1;
  // Canonical blocks not met yet, as a bitset small enough to stay in cache while the table is scanned.
  const pending = new Int32Array((poolTop + 31) >>> 5);
  for (let b = 0; b < poolTop; b++) if (bCanon[b] === 1) pending[b >>> 5]! |= 1 << (b & 31);
  let gSeen = 0;
  for (let i = 0; i < slots; i++) {
    const b = gt[2 * i]!;
    if (b === -1) continue;
    if (b < 0 || b >= poolTop || (pending[b >>> 5]! & (1 << (b & 31))) === 0) broken('name table entry');
    pending[b >>> 5]! &= ~(1 << (b & 31));
    for (let j = gt[2 * i + 1]! & mask; j !== i; j = (j + 1) & mask) if (gt[2 * j] === -1) broken('name table probe');
    gSeen++;
  }
  if (gSeen * 2 > slots) broken('name table load');
  if (gSeen !== canon || names.count !== canon) broken('name table count');
  let eSeen = 0;
  const et = aliases.rows;
  const perSlot = new Float64Array(slotLive.length);
  for (let r = 0; r < et.length; r += 4) {
    const b = et[r + 3]!;
    if (b === -1) continue;
    const s = et[r]!;
    if (b < 0 || b >= poolTop || bNode[b]! < 0 || s < 0 || s >= slotLive.length || !slotLive[s]) broken('alias entry');
    if (aliases.lookup(s, et[r + 1]! >>> 0, et[r + 2]! >>> 0) !== b) broken('alias table');
    if (holders.valueOf(nodes.hOff[bNode[b]!]!, nodes.hLen[bNode[b]!]!, s) === 0) broken('alias without holder word');
    perSlot[s]!++;
    eSeen++;
  }
  for (let s = 0; s < perSlot.length; s++) if (perSlot[s] !== (slotLive[s] ? slotAliases[s] : 0)) broken('aliases per cache');
  if (eSeen !== aliases.count) broken('alias count');
}

function broken(what: string): never {
  throw new Error(`RadixIndex: broken invariant (${what})`);
}
