/** Result rows, the stdout table, the JSON file and the CI ratio check. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchEnv } from './env.js';

/** Implementations compared in one run. `ours` is the optimized code; the others are baselines. */
export type Impl = 'ours' | 'reference' | 'naive' | 'inverted' | 'xxhash-wasm' | 'findMatches';

/** Whether a larger or a smaller value is better (decides the direction of `ratio`). */
export type Better = 'higher' | 'lower';

/**
 * One figure. `value` is ours; `baseline` the reference figure of the same run (or the named
 * `baselineImpl`); `ratio` is always "times better than the baseline" (> 1: ours wins), i.e.
 * value / baseline when higher is better, baseline / value when lower is better.
 */
export interface ResultRow {
  name: string;
  unit: string;
  /** Ours; null when ours could not run (see `skipped`). */
  value: number | null;
  baseline?: number;
  ratio?: number;
  /** Which implementation `baseline` is (default `reference`). */
  baselineImpl?: Impl;
  /** Every baseline's figure, and ours' ratio to each. */
  baselines?: Partial<Record<Impl, number>>;
  ratios?: Partial<Record<Impl, number>>;
  better: Better;
  /** Workload configuration the figure belongs to, e.g. `W=256 C=8192 B=16`. */
  config?: string;
  /** Why ours (or the whole row) is missing. */
  skipped?: string;
  note?: string;
}

/** Collects rows and renders them. */
export class Results {
  readonly rows: ResultRow[] = [];

  /**
   * Adds a figure. `values` holds ours and each baseline (absent when not run);
   * the primary baseline is `reference` unless `baselineImpl` says otherwise.
   */
  add(spec: {
    name: string;
    unit: string;
    better: Better;
    values: Partial<Record<Impl, number>>;
    config?: string;
    baselineImpl?: Impl;
    skipped?: string;
    note?: string;
  }): ResultRow {
    const ours = spec.values.ours;
    const primary = spec.baselineImpl ?? 'reference';
    const row: ResultRow = { name: spec.name, unit: spec.unit, value: ours ?? null, better: spec.better };
    const baselines: Partial<Record<Impl, number>> = {};
    const ratios: Partial<Record<Impl, number>> = {};
    for (const [impl, v] of Object.entries(spec.values) as Array<[Impl, number]>) {
      if (impl === 'ours' || !Number.isFinite(v)) continue;
      baselines[impl] = v;
      if (ours !== undefined && Number.isFinite(ours) && ours > 0 && v > 0) {
        ratios[impl] = spec.better === 'higher' ? ours / v : v / ours;
      }
    }
    if (baselines[primary] !== undefined) {
      row.baseline = baselines[primary];
      if (ratios[primary] !== undefined) row.ratio = ratios[primary];
      if (primary !== 'reference') row.baselineImpl = primary;
    }
    if (Object.keys(baselines).length > 0) row.baselines = baselines;
    if (Object.keys(ratios).length > 0) row.ratios = ratios;
    if (spec.config !== undefined) row.config = spec.config;
    if (ours === undefined && spec.skipped === undefined) row.skipped = 'not measured';
    if (spec.skipped !== undefined) row.skipped = spec.skipped;
    if (spec.note !== undefined) row.note = spec.note;
    this.rows.push(row);
    return row;
  }

  /** Writes `{ env, results }`. */
  writeJson(file: string, env: BenchEnv): void {
    writeFileSync(file, JSON.stringify({ env, results: this.rows }, null, 2) + '\n');
  }

  /** A fixed-width table for stdout. */
  table(): string {
    const head = ['figure', 'config', 'ours', 'reference', 'ratio', 'naive', 'inverted', 'other baseline', 'unit'];
    const lines: string[][] = [head];
    for (const r of this.rows) {
      const b = r.baselines ?? {};
      const other = r.baselineImpl !== undefined ? `${fmt(b[r.baselineImpl])} (${r.baselineImpl})` : '';
      lines.push([
        r.name,
        r.config ?? '',
        r.value === null ? `skipped` : fmt(r.value),
        fmt(b.reference),
        r.ratio === undefined ? '' : `${fmt(r.ratio)}x`,
        fmt(b.naive),
        fmt(b.inverted),
        other,
        r.unit,
      ]);
    }
    const widths = head.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
    const out = lines.map((l) => l.map((cell, c) => (c === 0 || c === 1 || c === 8 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
    const skipped = this.rows.filter((r) => r.skipped !== undefined);
    if (skipped.length > 0) {
      out.push('', 'skipped:');
      const seen = new Set<string>();
      for (const r of skipped) {
        const line = `  ${r.name}${r.config ? ` [${r.config}]` : ''}: ${r.skipped}`;
        if (!seen.has(line)) out.push(line);
        seen.add(line);
      }
    }
    return out.join('\n');
  }
}

/** A number for humans: 3 significant digits, k/M/G suffixes above 10^4. */
export function fmt(v: number | undefined | null): string {
  if (v === undefined || v === null) return '';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

/** bench/thresholds.json: the lowest acceptable ratio per figure name. */
export interface Thresholds {
  /** Figure name → floor. A figure present under several configs is checked in each. */
  floors: Record<string, { minRatio: number; typical?: number; note?: string }>;
}

/** Outcome of {@link checkThresholds}. */
export interface CheckOutcome {
  ok: boolean;
  lines: string[];
}

/**
 * Compares every floor with the run's ratios. A ratio below its floor fails; a floored figure
 * that is missing fails too, unless the run marked it skipped (a module not available yet),
 * which only warns.
 */
export function checkThresholds(rows: readonly ResultRow[], thresholds: Thresholds): CheckOutcome {
  const lines: string[] = [];
  let ok = true;
  for (const [name, floor] of Object.entries(thresholds.floors)) {
    const matching = rows.filter((r) => r.name === name);
    if (matching.length === 0) {
      ok = false;
      lines.push(`FAIL ${name}: no such figure in this run (floor ${floor.minRatio}x)`);
      continue;
    }
    for (const r of matching) {
      const where = `${name}${r.config ? ` [${r.config}]` : ''}`;
      if (r.ratio === undefined) {
        if (r.skipped !== undefined) {
          lines.push(`WARN ${where}: skipped (${r.skipped}); floor ${floor.minRatio}x not checked`);
        } else {
          ok = false;
          lines.push(`FAIL ${where}: no ratio measured (floor ${floor.minRatio}x)`);
        }
        continue;
      }
      if (r.ratio < floor.minRatio) {
        ok = false;
        lines.push(
          `FAIL ${where}: ratio ${fmt(r.ratio)}x to ${r.baselineImpl ?? 'reference'} is below the floor ${floor.minRatio}x` +
            ` (ours ${fmt(r.value)} ${r.unit}, baseline ${fmt(r.baseline)} ${r.unit}${floor.typical ? `, typical ${floor.typical}x` : ''})`,
        );
      } else {
        lines.push(`ok   ${where}: ${fmt(r.ratio)}x >= ${floor.minRatio}x`);
      }
    }
  }
  return { ok, lines };
}

/** Reads and validates a thresholds file. */
export function readThresholds(file: string): Thresholds {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const floors = (parsed as { floors?: unknown })?.floors;
  if (floors === null || typeof floors !== 'object') throw new Error(`${file}: expected { "floors": { name: { "minRatio": number } } }`);
  for (const [name, f] of Object.entries(floors as Record<string, unknown>)) {
    const min = (f as { minRatio?: unknown })?.minRatio;
    if (typeof min !== 'number' || !(min > 0)) throw new Error(`${file}: floors.${name}.minRatio must be a positive number, got ${String(min)}`);
  }
  return parsed as Thresholds;
}
