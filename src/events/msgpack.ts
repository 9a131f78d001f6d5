import { Packr, Unpackr } from 'msgpackr';
import { abort } from './errors.js';

/**
 * @internal The MessagePack reader every decoder uses: plain arrays and objects (no msgpackr
 * records), and 64-bit integers as `bigint` so u64 hashes decode exactly (smaller integers stay
 * numbers, so a hash may arrive as either).
 */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/** @internal Decodes exactly one MessagePack value; anything else is `MALFORMED`. */
export function unpackOne(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return abort('MALFORMED', `invalid MessagePack: ${message.length > 120 ? message.slice(0, 120) + '…' : message}`);
  }
}

/** @internal The MessagePack writer of the encoders (plain arrays and maps, exact bigints). */
export const packr = new Packr({ useRecords: false, int64AsType: 'bigint', variableMapSize: true });

/** @internal A u64 as the smallest exact msgpack-able value: a number when safe, else a bigint. */
export function packableU64(v: bigint): number | bigint {
  return v <= 9007199254740991n ? Number(v) : v;
}
