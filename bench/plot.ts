/**
 * Renders a results file of `run.js --json`: an SVG of findMatches latency against prompt depth
 * (ours and the baselines, p50 solid and p99 dashed, log–log) and a Markdown table.
 *
 *   node build/bench/plot.js RESULTS.json [--svg docs/findmatches-latency.svg] [--md]
 *
 * Hand-written SVG, no dependencies.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fmt, type Impl, type ResultRow } from './lib/results.js';

interface ResultFile {
  env: { cpu: string; cores: number; node: string; totalMemGiB: number; profile: string; date: string; durationS?: number };
  results: ResultRow[];
}

const SERIES: Array<{ impl: Impl; label: string; color: string }> = [
  { impl: 'ours', label: 'RadixIndex (ours)', color: '#1f77b4' },
  { impl: 'reference', label: 'reference (Map trie)', color: '#d62728' },
  { impl: 'naive', label: 'naive (per-worker Map)', color: '#ff7f0e' },
  { impl: 'inverted', label: 'inverted (Map → workers)', color: '#2ca02c' },
];
const DEPTHS = ['1k', '8k', '32k', '128k'];

function valueOf(row: ResultRow | undefined, impl: Impl): number | undefined {
  if (row === undefined) return undefined;
  return impl === 'ours' ? (row.value ?? undefined) : row.baselines?.[impl];
}

/** The SVG document. */
export function latencySvg(file: ResultFile): string {
  const config = file.results.find((r) => r.name.startsWith('index.findMatches.'))?.config;
  const rowOf = (d: string, q: string): ResultRow | undefined => file.results.find((r) => r.name === `index.findMatches.${d}.${q}` && r.config === config);
  const all: number[] = [];
  for (const d of DEPTHS) for (const q of ['p50Us', 'p99Us']) for (const s of SERIES) {
    const v = valueOf(rowOf(d, q), s.impl);
    if (v !== undefined && v > 0) all.push(v);
  }
  const W = 720;
  const H = 440;
  const m = { l: 70, r: 210, t: 50, b: 60 };
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all, 10))));
  const x = (i: number): number => m.l + (i * (W - m.l - m.r)) / (DEPTHS.length - 1);
  const y = (v: number): number => H - m.b - ((Math.log10(v) - Math.log10(lo)) * (H - m.t - m.b)) / (Math.log10(hi) - Math.log10(lo));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">findMatches latency vs prompt depth</text>`);
  parts.push(`<text x="${m.l}" y="40" fill="#555">${esc(`${config ?? ''} · profile ${file.env.profile} · ${file.env.cpu}, ${file.env.cores} cores, node ${file.env.node}`)}</text>`);
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const v = Math.pow(10, e);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000} ms` : `${v} µs`}</text>`);
  }
  DEPTHS.forEach((d, i) => {
    parts.push(`<line x1="${x(i)}" x2="${x(i)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${x(i)}" y="${H - m.b + 18}" text-anchor="middle">${d} tokens</text>`);
  });
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 15}" text-anchor="middle">prompt depth (blocks of 16: 64 / 512 / 2048 / 8192)</text>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`);
  SERIES.forEach((s, k) => {
    for (const q of ['p50Us', 'p99Us']) {
      const pts = DEPTHS.map((d, i) => [i, valueOf(rowOf(d, q), s.impl)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined && p[1] > 0);
      if (pts.length === 0) continue;
      const dash = q === 'p99Us' ? ' stroke-dasharray="5 4"' : '';
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
      for (const [i, v] of pts) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${q === 'p50Us' ? s.color : 'white'}" stroke="${s.color}"><title>${esc(`${s.label} ${DEPTHS[i]} ${q}: ${fmt(v)} µs`)}</title></circle>`);
    }
    const ly = m.t + 10 + k * 22;
    parts.push(`<line x1="${W - m.r + 15}" x2="${W - m.r + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - m.r + 46}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  const ly = m.t + 10 + SERIES.length * 22 + 8;
  parts.push(`<text x="${W - m.r + 15}" y="${ly}" fill="#555">solid: p50 · dashed: p99</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Markdown table of every figure. */
export function markdownTable(file: ResultFile): string {
  const out = ['| figure | config | ours | reference | ratio | naive | inverted | unit |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |'];
  for (const r of file.results) {
    const b = r.baselines ?? {};
    const ref = r.baselineImpl !== undefined ? `${fmt(b[r.baselineImpl])} (${r.baselineImpl})` : fmt(b.reference);
    out.push(
      `| \`${r.name}\` | ${r.config ?? ''} | ${r.value === null ? 'skipped' : fmt(r.value)} | ${ref} | ${r.ratio === undefined ? '' : `${fmt(r.ratio)}×`} | ${fmt(b.naive)} | ${fmt(b.inverted)} | ${r.unit} |`,
    );
  }
  return out.join('\n') + '\n';
}

function main(): void {
  const [input, ...rest] = process.argv.slice(2);
  if (input === undefined) {
    process.stderr.write('usage: plot.js RESULTS.json [--svg OUT.svg] [--md]\n');
    process.exit(2);
  }
  const file = JSON.parse(readFileSync(input, 'utf8')) as ResultFile;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--svg') writeFileSync(rest[++i]!, latencySvg(file));
    else if (rest[i] === '--md') process.stdout.write(markdownTable(file));
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
