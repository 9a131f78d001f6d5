import type { PolicyReport, SimReport } from '../sim/index.js';
import { esc, lineChart, type ChartSeries } from './svg-chart.js';
import { fmtCount, fmtMs, fmtPct, fmtUs, tableRows } from './table.js';

const COLORS: Record<string, string> = {
  kv: '#2563eb',
  approx: '#9333ea',
  'least-loaded': '#059669',
  'round-robin': '#d97706',
  random: '#dc2626',
};
const FALLBACK = ['#0891b2', '#4b5563', '#be185d'];

function colorOf(policy: string, i: number): string {
  return COLORS[policy] ?? FALLBACK[i % FALLBACK.length]!;
}

const CSS = `
:root { color-scheme: light; --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f9fafb; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 12px; }
.sub { color: var(--muted); margin: 0 0 24px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin-bottom: 24px; }
.card, section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 26px; font-weight: 650; margin-top: 2px; }
.card .d { color: var(--muted); font-size: 12px; }
section { margin-bottom: 16px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 6px 8px; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.best { font-weight: 700; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: var(--muted); margin-top: 8px; }
.legend .dash { display: inline-block; width: 18px; border-top: 2px dashed currentColor; margin-right: 6px; vertical-align: middle; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .frame { fill: none; stroke: #d1d5db; }
svg.chart .tick { fill: var(--muted); font-size: 11px; }
svg.chart .axis { fill: var(--fg); font-size: 12px; }
svg.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.note { color: var(--muted); font-size: 12px; }
`;

function legend(items: Array<{ name: string; color: string; dashed?: boolean }>): string {
  return `<div class="legend">${items
    .map((i) => `<span>${i.dashed === true ? `<span class="dash" style="color:${i.color}"></span>` : `<span class="swatch" style="background:${i.color}"></span>`}${esc(i.name)}</span>`)
    .join('')}</div>`;
}

function ttftChart(report: SimReport): string {
  const series: ChartSeries[] = report.policies.map((p, i) => ({
    name: p.policy,
    color: colorOf(p.policy, i),
    points: p.ttftPercentilesMs.map((v, q) => [Math.max(v, 0.1), q] as [number, number]),
  }));
  return lineChart({
    title: 'TTFT distribution (CDF) per policy',
    xLabel: 'time to first token (log scale)',
    yLabel: 'requests (%)',
    series,
    xLog: true,
    yMin: 0,
    yMax: 100,
    formatX: (v) => (v < 1000 ? `${+v.toPrecision(3)} ms` : `${+(v / 1000).toPrecision(3)} s`),
    width: 960,
    height: 340,
    formatY: (v) => `${Math.round(v)}%`,
  });
}

function hitChart(report: SimReport): string {
  const series: ChartSeries[] = report.policies.map((p, i) => ({
    name: p.policy,
    color: colorOf(p.policy, i),
    points: p.series.timeS.map((t, k) => [t, p.series.hitRate[k] === null ? null : p.series.hitRate[k]! * 100] as [number, number | null]),
  }));
  const t = report.policies[0]?.series.timeS ?? [0];
  series.push({ name: 'ideal (infinite cache)', color: '#9ca3af', dashed: true, points: [[t[0]!, report.idealHitRate * 100], [t[t.length - 1]!, report.idealHitRate * 100]] });
  return lineChart({
    title: 'Prefix cache hit rate over time',
    xLabel: 'simulated time (s)',
    yLabel: 'hit rate (%)',
    series,
    yMin: 0,
    yMax: 100,
    formatX: (v) => `${Math.round(v)}`,
    formatY: (v) => `${Math.round(v)}%`,
    width: 460,
    height: 320,
  });
}

function loadChart(report: SimReport): string {
  const series: ChartSeries[] = report.policies.map((p, i) => ({
    name: p.policy,
    color: colorOf(p.policy, i),
    points: p.series.timeS.map((t, k) => [t, p.series.maxActive[k]!] as [number, number]),
  }));
  const first = report.policies[0];
  if (first !== undefined) {
    series.push({ name: 'fleet mean', color: '#6b7280', dashed: true, points: first.series.timeS.map((t, k) => [t, first.series.meanActive[k]!] as [number, number]) });
  }
  return lineChart({
    title: 'Busiest worker load over time',
    xLabel: 'simulated time (s)',
    yLabel: 'active requests (busiest worker)',
    series,
    yMin: 0,
    formatX: (v) => `${Math.round(v)}`,
    formatY: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)),
    width: 460,
    height: 320,
  });
}

function bestBaseline(report: SimReport, pick: (p: PolicyReport) => number, lowerIsBetter: boolean): PolicyReport | undefined {
  const baselines = report.policies.filter((p) => p.policy !== 'kv' && p.policy !== 'approx');
  if (baselines.length === 0) return undefined;
  return baselines.reduce((a, b) => ((lowerIsBetter ? pick(b) < pick(a) : pick(b) > pick(a)) ? b : a));
}

function cards(report: SimReport): string {
  const kv = report.policies.find((p) => p.policy === 'kv') ?? report.policies[0]!;
  const hitBase = bestBaseline(report, (p) => p.hitRate, false);
  const ttftBase = bestBaseline(report, (p) => p.ttftMs.p90, true);
  const out: string[] = [];
  const card = (k: string, v: string, d: string): void => {
    out.push(`<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="d">${esc(d)}</div></div>`);
  };
  card(`${kv.policy} hit rate`, fmtPct(kv.hitRate), hitBase ? `best baseline ${hitBase.policy}: ${fmtPct(hitBase.hitRate)}; ideal ${fmtPct(report.idealHitRate)}` : `ideal ${fmtPct(report.idealHitRate)}`);
  card(`${kv.policy} TTFT p90`, fmtMs(kv.ttftMs.p90), ttftBase ? `best baseline ${ttftBase.policy}: ${fmtMs(ttftBase.ttftMs.p90)}` : `p50 ${fmtMs(kv.ttftMs.p50)}`);
  card('prefill tokens saved', `${fmtCount(kv.prefillTokensSaved)}`, `of ${fmtCount(kv.promptTokens)} prompt tokens (${kv.policy})`);
  card(`${kv.policy} router time per pick`, fmtUs(kv.pickUs.mean), `p99 ${fmtUs(kv.pickUs.p99)} (real wall time)`);
  return `<div class="cards">${out.join('')}</div>`;
}

function table(report: SimReport): string {
  const rows = tableRows(report);
  // Best value per numeric column (lower is better except hit rate and prefill saved).
  const keys: Array<((p: PolicyReport) => number) | undefined> = [
    undefined,
    (p) => -p.hitRate,
    (p) => -p.prefillTokensSaved,
    (p) => p.ttftMs.p50,
    (p) => p.ttftMs.p90,
    (p) => p.ttftMs.p99,
    (p) => p.e2eMs.p50,
    (p) => p.e2eMs.p90,
    (p) => p.loadImbalance,
    undefined,
    undefined,
  ];
  const best = keys.map((k) => (k === undefined ? -1 : report.policies.reduce((bi, p, i) => (k(p) < k(report.policies[bi]!) ? i : bi), 0)));
  const head = `<tr>${rows[0]!.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .slice(1)
    .map((r, i) => {
      const policy = report.policies[i]!.policy;
      return `<tr>${r
        .map((cell, c) =>
          c === 0
            ? `<td><span class="swatch" style="background:${colorOf(policy, i)}"></span>${esc(cell)}</td>`
            : `<td${best[c] === i ? ' class="best"' : ''}>${esc(cell)}</td>`,
        )
        .join('')}</tr>`;
    })
    .join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** Renders a self-contained HTML report: inline CSS and SVG, no scripts, fonts or network assets. */
export function renderHtml(report: SimReport): string {
  const c = report.config;
  const items = report.policies.map((p, i) => ({ name: p.policy, color: colorOf(p.policy, i) }));
  const counters = report.policies
    .filter((p) => Object.values(p.counters).some((v) => v > 0))
    .map((p) => `<p class="note">${esc(p.policy)}: ${Object.entries(p.counters).filter(([, v]) => v > 0).map(([k, v]) => `${esc(k)} ${fmtCount(v)}`).join(' · ')}</p>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvrouter simulate: ${esc(report.workload)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>KV-aware routing on a simulated fleet</h1>
<p class="sub">${esc(report.workload)} · ${report.requests} requests · ${c.workers} workers × ${c.capacityBlocks} KV blocks of ${c.blockSize} tokens ·
prefill ${c.prefillTokensPerSecond} tok/s · decode ${c.decodeMsPerToken} ms/token · batch ${c.batchLimit} · seed ${c.seed} · events ${c.transport}</p>
${cards(report)}
<section><h2>Results per policy</h2>${table(report)}
<p class="note">Hit rate: prompt blocks served from the engine's prefix cache. Imbalance: busiest worker's active requests / fleet mean, averaged over time while requests arrive.
Times are simulated except router time per pick (real wall time). Ideal hit rate of one infinite cache: ${fmtPct(report.idealHitRate)}.</p></section>
<section><h2>Time to first token</h2>${ttftChart(report)}${legend(items)}</section>
<div class="grid2">
<section><h2>Prefix cache hit rate over time</h2>${hitChart(report)}${legend([...items, { name: 'ideal (infinite cache)', color: '#9ca3af', dashed: true }])}</section>
<section><h2>Load over time</h2>${loadChart(report)}${legend([...items, { name: 'fleet mean', color: '#6b7280', dashed: true }])}</section>
</div>
${counters !== '' ? `<section><h2>Event path</h2>${counters}</section>` : ''}
<p class="note">Generated by kvrouter simulate in ${(report.wallMs / 1000).toFixed(1)} s of wall time.</p>
</main>
</body>
</html>
`;
}
