import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimulateArgs } from '../src/cli/args.js';
import { runCli } from '../src/cli/run.js';
import type { SimReport } from '../src/sim/index.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s), isTTY: false } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'kvrouter-cli-'));

describe('kvrouter CLI', () => {
  it('has a shebang entry point', () => {
    expect(readFileSync(new URL('../src/cli/main.ts', import.meta.url), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints help and version', async () => {
    const main = await cli('--help');
    expect(main.code).toBe(0);
    expect(main.out).toMatch(/Usage:\n  kvrouter <command>/);
    expect(main.out).toContain('simulate');
    expect((await cli()).out).toBe(main.out);
    const version = await cli('--version');
    expect(version.out.trim()).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    const sim = await cli('simulate', '--help');
    expect(sim.code).toBe(0);
    for (const flag of ['--trace', '--workers', '--capacity', '--block-size', '--rate', '--speedup', '--policies', '--seed', '--nats', '--json', '--html', '--requests', '--quiet']) {
      expect(sim.out).toContain(flag);
    }
    for (const policy of ['kv', 'round-robin', 'random', 'least-loaded', 'approx']) expect(sim.out).toContain(policy);
  });

  it.each([
    [['simulate', '--bogus'], /^kvrouter: Unknown option '--bogus' \(see 'kvrouter simulate --help'\)\n$/],
    [['simulate', '--workers', 'x'], /--workers expects an integer in \[1, 4096\], got 'x'/],
    [['simulate', '--workers', '0'], /--workers expects an integer/],
    [['simulate', '--workers'], /--workers/],
    [['simulate', '--rate', '-3'], /--rate expects a number > 0, got '-3'/],
    [['simulate', '--rate', '5', '--speedup', '2'], /mutually exclusive/],
    [['simulate', '--policies', 'kv,fastest'], /unknown policy 'fastest'/],
    [['simulate', '--block-size', '1.5'], /--block-size expects an integer/],
    [['simulate', '--nats', 'not a url'], /--nats expects a server URL/],
    [['simulate', 'extra'], /unexpected argument 'extra'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('rejects %j with one line and exit code 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('reports an unreadable or malformed trace in one line, exit code 1, no stack', async () => {
    const missing = await cli('simulate', '--trace', join(dir, 'nope.jsonl'), '--quiet');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^kvrouter: error: cannot read trace .*nope\.jsonl: no such file\n$/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [0]}\n{"timestamp": 1}\n');
    const malformed = await cli('simulate', '--trace', bad, '--quiet');
    expect(malformed.code).toBe(1);
    expect(malformed.err).toMatch(/^kvrouter: error: cannot read trace .*bad\.jsonl: line 2: input_length must be a positive integer\n$/);
    const isDir = await cli('simulate', '--trace', dir, '--quiet');
    expect(isDir.code).toBe(1);
    expect(isDir.err).toMatch(/is a directory/);
    const noDir = await cli('simulate', '--json', join(dir, 'missing', 'out.json'), '--quiet');
    expect(noDir.code).toBe(1);
    expect(noDir.err).toMatch(/--json .*does not exist/);
  });

  it('runs a small simulation: table on stdout, progress lines on stderr, JSON and HTML files', async () => {
    const json = join(dir, 'report.json');
    const html = join(dir, 'report.html');
    const r = await cli('simulate', '--requests', '150', '--workers', '3', '--capacity', '1024', '--rate', '20', '--policies', 'kv,round-robin', '--json', json, '--html', html);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/policy\s+hit rate\s+prefill saved\s+TTFT p50/);
    expect(r.out).toMatch(/\nkv\s+\d+\.\d%/);
    expect(r.out).toMatch(/\nround-robin\s+\d+\.\d%/);
    expect(r.err).toMatch(/kvrouter: \[2\/2\] round-robin 150\/150 requests done/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as SimReport;
    expect(report.requests).toBe(150);
    expect(report.config.workers).toBe(3);
    expect(report.policies.map((p) => p.policy)).toEqual(['kv', 'round-robin']);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page.match(/<svg class="chart"/g)).toHaveLength(3);
    expect(page).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('parses defaults', () => {
    const a = parseSimulateArgs([]);
    expect(a).toMatchObject({ workers: 16, blockSize: 16, seed: 1, policies: ['kv', 'approx', 'least-loaded', 'round-robin', 'random'], quiet: false });
    expect(parseSimulateArgs(['--policies', 'random,kv,random']).policies).toEqual(['random', 'kv']);
  });
});
