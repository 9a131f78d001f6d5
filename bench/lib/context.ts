/** What every suite gets: the profile, the result sink, hashers and the available index kinds. */
import { createHasher, type Hasher } from '../../src/hashing/index.js';
import type { IndexKind } from '../baselines/types.js';
import type { Profile } from './profiles.js';
import type { Results } from './results.js';

/** Shared state of one run. */
export interface BenchContext {
  profile: Profile;
  results: Results;
  /** Problems found while measuring (disagreeing overlaps, rejected events); printed and saved. */
  warnings: string[];
  /** Index kinds that loaded: ours (if available) first, then the baselines. */
  kinds: IndexKind[];
  /** Why an index kind is missing (e.g. ours not written yet). */
  missing: Partial<Record<IndexKind['impl'], string>>;
  hasher(blockSize: number): Promise<Hasher>;
}

/** A per-block-size hasher cache. */
export function hasherCache(): (blockSize: number) => Promise<Hasher> {
  const cache = new Map<number, Promise<Hasher>>();
  return (blockSize) => {
    let h = cache.get(blockSize);
    if (h === undefined) cache.set(blockSize, (h = createHasher({ blockSize })));
    return h;
  };
}
