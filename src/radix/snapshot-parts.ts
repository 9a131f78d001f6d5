/**
 * Snapshot wiring: which index structure goes into which section of the snapshot format
 * (snapshot.ts encodes the sections; this file decides their order and contents, so it fixes the
 * byte layout together with it), and the checks that sections agree before they are installed.
 *
 * @internal
 */
import type { BlockPool } from './block-pool.js';
import type { CacheSlots } from './caches.js';
import type { ChildTable } from './child-table.js';
import { CHUNK_SIZES, type HolderPool } from './holders.js';
import type { Matcher } from './match.js';
import type { AliasTable, NameTable } from './name-tables.js';
import type { NodeTable } from './nodes.js';
import type { SnapshotParts } from './snapshot.js';
import { growI32, growU32, growU8, pow2AtLeast } from './tables.js';

/** Everything of an index that a snapshot saves or a restore rebuilds. @internal */
export interface IndexStructures {
  readonly nodes: NodeTable;
  readonly blocks: BlockPool;
  readonly holders: HolderPool;
  readonly children: ChildTable;
  readonly names: NameTable;
  readonly aliases: AliasTable;
  readonly caches: CacheSlots;
  readonly matcher: Matcher;
}

/** The index as snapshot sections (typed arrays trimmed to their used length, tables whole). @internal */
export function toParts(x: IndexStructures): SnapshotParts {
  const slots = x.caches.rows();
  const nt = x.nodes.top;
  const bt = x.blocks.top;
  return {
    scalars: [x.nodes.top, x.nodes.free, x.nodes.live, x.nodes.rootKids, x.blocks.top, x.blocks.holes, x.holders.top, x.children.count, x.names.count, x.aliases.count],
    hFree: x.holders.free,
    i32: [
      x.nodes.start.subarray(0, nt), x.nodes.len.subarray(0, nt), x.nodes.parent.subarray(0, nt), x.nodes.kids.subarray(0, nt),
      x.nodes.hOff.subarray(0, nt), x.nodes.hLen.subarray(0, nt), x.blocks.node.subarray(0, bt), x.children.slots, x.names.slots, x.aliases.rows,
    ],
    u32: [x.blocks.lo.subarray(0, bt), x.blocks.hi.subarray(0, bt), x.blocks.canonLo.subarray(0, bt), x.blocks.canonHi.subarray(0, bt), x.holders.words.subarray(0, x.holders.top)],
    u8: [x.nodes.hCap.subarray(0, nt), x.blocks.canon.subarray(0, bt)],
    slots,
  };
}

/** Installs snapshot sections into a fresh index's structures; throws an Error on inconsistent sections. @internal */
export function loadParts(x: IndexStructures, p: SnapshotParts): void {
  const fail = (what: string): never => {
    throw new Error(`RadixIndex.restore: invalid snapshot (${what})`);
  };
  if (p.scalars.length !== 10 || p.i32.length !== 10 || p.u32.length !== 5 || p.u8.length !== 2 || p.hFree.length !== CHUNK_SIZES) fail('section counts');
  const [nodeTop, nodeFree, liveNodes, rootKids, poolTop, freeBlocks, hTop, ctCount, gtCount, etCount] = p.scalars as [
    number, number, number, number, number, number, number, number, number, number,
  ];
  const [nStart, nLen, nParent, nKids, nHOff, nHLen, bNode, ct, gt, et] = p.i32 as [
    Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
  ];
  const [bLo, bHi, cLo, cHi, hp] = p.u32 as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  const [nHCap, bCanon] = p.u8 as [Uint8Array, Uint8Array];
  for (const a of [nStart, nLen, nParent, nKids, nHOff, nHLen, nHCap]) if (a.length !== nodeTop) fail('node arrays');
  for (const a of [bNode, bLo, bHi, cLo, cHi, bCanon]) if (a.length !== poolTop) fail('block arrays');
  if (hp.length !== hTop) fail('holder pool');
  const pow2 = (x: number): boolean => x >= 1 && (x & (x - 1)) === 0;
  if (!pow2(ct.length) || !pow2(gt.length >> 1) || gt.length < 2 || !pow2(et.length >> 2) || et.length < 4) fail('table sizes');
  const nodeCap = pow2AtLeast(Math.max(nodeTop, 1), 256);
  const blockCap = pow2AtLeast(Math.max(poolTop, 1), 1024);
  x.nodes.start = growI32(nStart, nodeCap);
  x.nodes.len = growI32(nLen, nodeCap);
  x.nodes.parent = growI32(nParent, nodeCap);
  x.nodes.kids = growI32(nKids, nodeCap);
  x.nodes.hOff = growI32(nHOff, nodeCap);
  x.nodes.hLen = growI32(nHLen, nodeCap);
  x.nodes.hCap = growU8(nHCap, nodeCap);
  x.blocks.lo = growU32(bLo, blockCap);
  x.blocks.hi = growU32(bHi, blockCap);
  x.blocks.canonLo = growU32(cLo, blockCap);
  x.blocks.canonHi = growU32(cHi, blockCap);
  x.blocks.canon = growU8(bCanon, blockCap);
  x.blocks.node = new Int32Array(blockCap).fill(-1);
  x.blocks.node.set(bNode);
  x.holders.load(hp, hTop, p.hFree);
  x.children.slots = ct.slice();
  x.names.slots = gt.slice();
  x.aliases.rows = et.slice();
  x.nodes.top = nodeTop;
  x.nodes.free = nodeFree;
  x.nodes.live = liveNodes;
  x.nodes.rootKids = rootKids;
  x.blocks.top = poolTop;
  x.blocks.holes = freeBlocks;
  x.children.count = ctCount;
  x.names.count = gtCount;
  x.aliases.count = etCount;
  x.caches.load(p.slots, fail);
  for (let r = 0; r < x.aliases.rows.length; r += 4) {
    const slot = x.aliases.rows[r]!;
    if (x.aliases.rows[r + 3]! >= 0 && slot >= 0 && slot < x.caches.aliases.length) x.caches.aliases[slot]!++;
  }
  x.matcher.reset(p.slots.length);
}
