import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../src/cli/html.js';
import { simulate, syntheticWorkload } from '../src/sim/index.js';

// The HTML report, checked in a real headless Chromium (Debian's /usr/bin/chromium).
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  const msg = `cli-html: Chromium not found at ${CHROMIUM}; install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
  if (process.env['CI'] === 'true') throw new Error(`${msg} (required under CI=true)`);
  console.warn(`\n*** SKIPPING the HTML report browser test: ${msg} ***\n`);
}
describe.skipIf(!available)('HTML report in a headless browser', () => {
  it('renders three non-empty SVG charts, with no console errors and no network requests', async () => {
    const report = await simulate({
      workload: syntheticWorkload({ seed: 2, requests: 600, rate: 40 }),
      workers: 6,
      capacityBlocks: 2048,
      seed: 2,
    });
    const dir = mkdtempSync(join(tmpdir(), 'kvrouter-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(report));

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(file).href;
      await page.goto(url, { waitUntil: 'load' });

      const charts = await page.$$eval('svg.chart', (els) =>
        els.map((el) => {
          const box = el.getBoundingClientRect();
          return { width: box.width, height: box.height, paths: el.querySelectorAll('path.line').length };
        }),
      );
      expect(charts).toHaveLength(3);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(200);
        expect(c.height).toBeGreaterThan(100);
        expect(c.paths).toBeGreaterThanOrEqual(5);
      }
      // Every policy row of the table is there.
      const rows = await page.$$eval('table tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
      expect(rows).toEqual(report.policies.map((p) => p.policy));
      expect(problems).toEqual([]);
      expect(requests.filter((u) => u !== url)).toEqual([]);

      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      console.log(`HTML report screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
