import type { SimReport } from '../sim/index.js';

/** Formats a duration in ms compactly (`85 ms`, `1.42 s`). @internal */
export function fmtMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** Formats a fraction as a percentage. @internal */
export function fmtPct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** Formats a count with k/M suffixes. @internal */
export function fmtCount(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return String(Math.round(v));
}

/** Formats microseconds. @internal */
export function fmtUs(us: number): string {
  return us < 10 ? `${us.toFixed(2)} µs` : us < 1000 ? `${us.toFixed(1)} µs` : `${(us / 1000).toFixed(2)} ms`;
}

/** The table rows (header first) of a report. @internal */
export function tableRows(report: SimReport): string[][] {
  const rows: string[][] = [
    ['policy', 'hit rate', 'prefill saved', 'TTFT p50', 'TTFT p90', 'TTFT p99', 'E2E p50', 'E2E p90', 'imbalance', 'pick mean', 'pick p99'],
  ];
  for (const p of report.policies) {
    rows.push([
      p.policy,
      fmtPct(p.hitRate),
      `${fmtCount(p.prefillTokensSaved)} tok`,
      fmtMs(p.ttftMs.p50),
      fmtMs(p.ttftMs.p90),
      fmtMs(p.ttftMs.p99),
      fmtMs(p.e2eMs.p50),
      fmtMs(p.e2eMs.p90),
      `${p.loadImbalance.toFixed(2)}x`,
      fmtUs(p.pickUs.mean),
      fmtUs(p.pickUs.p99),
    ]);
  }
  return rows;
}

/** Renders the report as a text table with a short header. */
export function renderTable(report: SimReport, color = false): string {
  const rows = tableRows(report);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[22m` : s);
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[22m` : s);
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const c = report.config;
  const out: string[] = [];
  out.push(bold(`kvrouter simulate: ${report.workload}`));
  out.push(
    dim(
      `${c.workers} workers x ${c.capacityBlocks} blocks of ${c.blockSize} tokens, batch ${c.batchLimit}, prefill ${c.prefillTokensPerSecond} tok/s, ` +
        `decode ${c.decodeMsPerToken} ms/tok, seed ${c.seed}, events ${c.transport}`,
    ),
  );
  out.push(dim(`ideal hit rate (one infinite cache): ${fmtPct(report.idealHitRate)}`));
  out.push('');
  out.push(bold(line(rows[0]!)));
  out.push(dim(widths.map((w) => '-'.repeat(w)).join('  ')));
  for (const r of rows.slice(1)) out.push(line(r));
  out.push('');
  const rejected = report.policies.filter((p) => p.rejected > 0);
  for (const p of rejected) out.push(`note: ${p.policy}: ${p.rejected} requests never fit in an engine's KV pool and were dropped`);
  out.push(dim(`wall time ${(report.wallMs / 1000).toFixed(1)} s (${report.policies.map((p) => `${p.policy} ${(p.wallMs / 1000).toFixed(1)} s`).join(', ')})`));
  return out.join('\n') + '\n';
}
