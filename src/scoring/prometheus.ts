/**
 * A tiny Prometheus text-exposition writer (format 0.0.4): counters with one optional label,
 * gauges, and histograms with fixed buckets. Enough for the router's own metrics without a
 * prom-client dependency.
 *
 * @internal
 */

/** A monotonically increasing counter, optionally split by one label. */
export class Counter {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly label?: string,
    /** Label values always exported (as 0 until incremented). */
    initial: readonly string[] = [],
  ) {
    for (const v of initial) this.values.set(v, 0);
    if (label === undefined) this.values.set('', 0);
  }

  /** Adds `by` (default 1) to the series with this label value. */
  inc(labelValue = '', by = 1): void {
    this.values.set(labelValue, (this.values.get(labelValue) ?? 0) + by);
  }

  /** Current value of a series. */
  get(labelValue = ''): number {
    return this.values.get(labelValue) ?? 0;
  }

  /** Appends the exposition lines. */
  write(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`);
    for (const [lv, v] of this.values) {
      const labels = this.label === undefined ? '' : `{${this.label}="${escapeLabel(lv)}"}`;
      out.push(`${this.name}${labels} ${formatValue(v)}`);
    }
  }
}

/** Writes one gauge sample. */
export function writeGauge(out: string[], name: string, help: string, value: number): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} gauge`, `${name} ${formatValue(value)}`);
}

/** A histogram over fixed, increasing upper bounds (the `+Inf` bucket is implicit). */
export class Histogram {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  /** Records one observation. */
  observe(v: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i] = this.counts[i]! + 1;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }

  /** Appends the exposition lines (cumulative buckets, `_sum`, `_count`). */
  write(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`);
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      out.push(`${this.name}_bucket{le="${formatValue(this.bounds[i]!)}"} ${cumulative}`);
    }
    out.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    out.push(`${this.name}_sum ${formatValue(this.sum)}`, `${this.name}_count ${this.count}`);
  }
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
