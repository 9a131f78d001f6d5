import type { Tier } from '../radix/types.js';

/**
 * A medium or storage tier that names a cache outside the worker (a shared / remote pool):
 * its events are skipped (counted as `SHARED_TIER`).
 */
export const SHARED = 'shared';

/**
 * vLLM / SGLang `medium` → tier (DESIGN §2): `GPU` → device; `CPU`, `CPU_PINNED`, `CPU_TIER1`,
 * `CPU_TIER2` → host; `DISK` → disk; missing → device. Also accepted: `DEVICE` (device), `NVME`,
 * `STORAGE` (disk), and `EXTERNAL`, `NETWORK`, `REMOTE`, `SHARED` (a shared pool: skipped).
 * Case-insensitive. `undefined` for anything else.
 */
export function mediumToTier(medium: unknown): Tier | typeof SHARED | undefined {
  if (medium === null || medium === undefined) return 'device';
  if (typeof medium !== 'string') return undefined;
  switch (medium === 'GPU' ? medium : medium.toUpperCase()) {
    case 'GPU':
    case 'DEVICE':
      return 'device';
    case 'CPU':
    case 'CPU_PINNED':
    case 'CPU_TIER1':
    case 'CPU_TIER2':
    case 'HOST':
      return 'host';
    case 'DISK':
    case 'NVME':
    case 'STORAGE':
      return 'disk';
    case 'EXTERNAL':
    case 'NETWORK':
    case 'REMOTE':
    case 'SHARED':
      return SHARED;
    default:
      return undefined;
  }
}

/** The vLLM `medium` string an encoder writes for a tier. */
export function tierToMedium(tier: Tier | undefined): string {
  return tier === 'host' ? 'CPU' : tier === 'disk' ? 'DISK' : 'GPU';
}

/**
 * NVIDIA Dynamo `storage_tier` → tier: `device`, `host_pinned` → host, `disk`, `external` (a shared
 * pool: skipped); missing → device. Positional MessagePack may carry the variant index (0..3).
 */
export function dynamoTierToTier(value: unknown): Tier | typeof SHARED | undefined {
  if (value === null || value === undefined) return 'device';
  if (typeof value === 'number' || typeof value === 'bigint') {
    const i = Number(value);
    return i === 0 ? 'device' : i === 1 ? 'host' : i === 2 ? 'disk' : i === 3 ? SHARED : undefined;
  }
  if (typeof value !== 'string') return undefined;
  switch (value.toLowerCase()) {
    case 'device':
      return 'device';
    case 'host_pinned':
    case 'hostpinned':
    case 'host':
      return 'host';
    case 'disk':
      return 'disk';
    case 'external':
      return SHARED;
    default:
      return undefined;
  }
}

/** The Dynamo `storage_tier` string an encoder writes for a tier. */
export function tierToDynamoTier(tier: Tier | undefined): string {
  return tier === 'host' ? 'host_pinned' : tier === 'disk' ? 'disk' : 'device';
}

/** TensorRT-LLM `cache_level` → tier: 0 (primary, GPU) → device, 1 (secondary) → host, higher → disk. */
export function cacheLevelToTier(level: number): Tier {
  return level === 0 ? 'device' : level === 1 ? 'host' : 'disk';
}
