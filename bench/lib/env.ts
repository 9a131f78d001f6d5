/** The machine a run happened on, recorded with every result file. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Environment of a benchmark run. */
export interface BenchEnv {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  totalMemGiB: number;
  date: string;
  profile: string;
  argv: string[];
  gcExposed: boolean;
  /**
   * `GLIBC_TUNABLES` of the run (e.g. `glibc.malloc.hugetlb=1`: transparent huge pages for the
   * index's large tables), or null. Fresh memory is expensive on some VMs; growth figures depend on it.
   */
  glibcTunables: string | null;
  /** The kernel's transparent huge page mode (`always`, `madvise` or `never`), when readable. */
  transparentHugePages: string | null;
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info);
    if (m) return m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function thpMode(): string | null {
  try {
    const m = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** Collects the environment now. */
export function collectEnv(profile: string, argv: string[]): BenchEnv {
  return {
    cpu: cpuModel(),
    cores: os.cpus().length,
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
    profile,
    argv,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
    glibcTunables: process.env.GLIBC_TUNABLES ?? null,
    transparentHugePages: thpMode(),
  };
}
