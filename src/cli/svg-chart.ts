/** One line of a chart. @internal */
export interface ChartSeries {
  name: string;
  color: string;
  /** Points in data units; a null y breaks the line. */
  points: Array<[number, number | null]>;
  dashed?: boolean;
}

/** A line chart's layout and axes. @internal */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  xLog?: boolean;
  yMin?: number;
  yMax?: number;
  formatX: (v: number) => string;
  formatY: (v: number) => string;
  /** viewBox width; pick it near the rendered width so text stays ~11px. Default 640. */
  width?: number;
  /** viewBox height. Default 300. */
  height?: number;
}

const M = { top: 16, right: 28, bottom: 44, left: 60 };

/** Escapes text for HTML and SVG. @internal */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/** Renders a line chart as an inline SVG element (no scripts, no external assets). @internal */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 300;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [x, y] of s.points) {
      if (spec.xLog === true && !(x > 0)) continue;
      xs.push(x);
      if (y !== null) ys.push(y);
    }
  }
  let xMin = xs.length > 0 ? Math.min(...xs) : 0;
  let xMax = xs.length > 0 ? Math.max(...xs) : 1;
  if (spec.xLog === true) {
    xMin = 10 ** Math.floor(Math.log10(Math.max(xMin, 1e-3)));
    xMax = 10 ** Math.ceil(Math.log10(Math.max(xMax, xMin * 10)));
  } else if (xMax <= xMin) xMax = xMin + 1;
  const yMin = spec.yMin ?? Math.min(0, ...ys);
  let yMax = spec.yMax ?? (ys.length > 0 ? Math.max(...ys) : 1);
  if (yMax <= yMin) yMax = yMin + 1;
  const yStep = niceStep(yMax - yMin, 5);
  if (spec.yMax === undefined) yMax = Math.ceil(yMax / yStep) * yStep;

  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number =>
    M.left + (spec.xLog === true ? (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (x - xMin) / (xMax - xMin)) * pw;
  const py = (y: number): number => M.top + ph - ((y - yMin) / (yMax - yMin)) * ph;

  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(spec.title)}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title>${esc(spec.title)}</title>`);
  // Grid and y ticks.
  for (let y = yMin; y <= yMax + yStep / 1e6; y += yStep) {
    const v = py(y).toFixed(1);
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${v}" y2="${v}"/>`);
    parts.push(`<text class="tick" x="${M.left - 8}" y="${v}" text-anchor="end" dominant-baseline="middle">${esc(spec.formatY(y))}</text>`);
  }
  // x ticks.
  const xTicks: number[] = [];
  if (spec.xLog === true) {
    for (let x = xMin; x <= xMax * 1.0001; x *= 10) xTicks.push(x);
  } else {
    const step = niceStep(xMax - xMin, 6);
    for (let x = Math.ceil(xMin / step) * step; x <= xMax + step / 1e6; x += step) xTicks.push(x);
  }
  for (const x of xTicks) {
    const v = px(x).toFixed(1);
    parts.push(`<line class="grid" x1="${v}" x2="${v}" y1="${M.top}" y2="${M.top + ph}"/>`);
    parts.push(`<text class="tick" x="${v}" y="${M.top + ph + 16}" text-anchor="middle">${esc(spec.formatX(x))}</text>`);
  }
  parts.push(`<rect class="frame" x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/>`);
  parts.push(`<text class="axis" x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  parts.push(`<text class="axis" transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  for (const s of spec.series) {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || (spec.xLog === true && !(x > 0))) {
        pen = false;
        continue;
      }
      const cy = Math.min(Math.max(y, yMin), yMax);
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)} ${py(cy).toFixed(1)}`;
      pen = true;
    }
    if (d === '') continue;
    parts.push(
      `<path class="line" d="${d}" stroke="${s.color}"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}><title>${esc(s.name)}</title></path>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
