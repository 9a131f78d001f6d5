import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  loadMooncakeTrace,
  simulate,
  syntheticWorkload,
  TraceFormatError,
  type SimReport,
  type Workload,
} from '../sim/index.js';
import { parseSimulateArgs, UsageError, type SimulateArgs } from './args.js';
import { DEFAULT_SYNTHETIC_RATE, DEFAULT_SYNTHETIC_REQUESTS, mainHelp, simulateHelp } from './help.js';
import { renderHtml } from './html.js';
import { Progress } from './progress.js';
import { renderTable } from './table.js';

/** Where the CLI writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/** A failure to report as one line (exit code 1). */
class CliError extends Error {
  override name = 'CliError';
}

/** The package version, read from package.json next to `dist/` (or `src/`). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Runs the `kvrouter` command line and resolves with its exit code: 0 on success, 1 when the
 * run fails, 2 on a bad command line. Errors are one line on stderr, never a stack trace.
 */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      if (command === 'help' && rest[0] === 'simulate') io.stdout.write(simulateHelp());
      else io.stdout.write(mainHelp(packageVersion()));
      return 0;
    }
    if (command === '-v' || command === '--version') {
      io.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command !== 'simulate') {
      throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}' (try 'kvrouter --help')`);
    }
    const args = parseSimulateArgs(rest);
    if (args.help) {
      io.stdout.write(simulateHelp());
      return 0;
    }
    await runSimulate(args, io);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`kvrouter: ${usage ? '' : 'error: '}${message.split('\n')[0]}${usage ? " (see 'kvrouter simulate --help')" : ''}\n`);
    if (process.env['KVROUTER_DEBUG'] && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return usage ? 2 : 1;
  }
}

function checkOutputPath(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`${flag} ${path}: directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`${flag} ${path}: is a directory`);
}

function loadWorkload(args: SimulateArgs): Workload {
  if (args.trace === undefined) {
    const rate = args.rate ?? DEFAULT_SYNTHETIC_RATE * (args.speedup ?? 1);
    return syntheticWorkload({ seed: args.seed, requests: args.requests ?? DEFAULT_SYNTHETIC_REQUESTS, rate });
  }
  try {
    return loadMooncakeTrace(args.trace, {
      ...(args.requests !== undefined ? { limit: args.requests } : {}),
      ...(args.rate !== undefined ? { rate: args.rate } : {}),
      ...(args.speedup !== undefined ? { speedup: args.speedup } : {}),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const reason =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : error instanceof TraceFormatError ? e.message : e.message;
    throw new CliError(`cannot read trace ${args.trace}: ${reason}`);
  }
}

async function runSimulate(args: SimulateArgs, io: CliIo): Promise<SimReport> {
  checkOutputPath('--json', args.json);
  checkOutputPath('--html', args.html);
  const progress = new Progress(io.stderr as NodeJS.WriteStream, !args.quiet);
  progress.note(args.trace === undefined ? 'generating the synthetic workload…' : `reading ${args.trace}…`);
  const workload = loadWorkload(args);
  progress.note(`${workload.requests.length} requests; preparing engine block hashes…`);
  const order = new Map(args.policies.map((p, i) => [p as string, i + 1]));
  let report: SimReport;
  try {
    report = await simulate({
      workload,
      workers: args.workers,
      blockSize: args.blockSize,
      ...(args.capacity !== undefined ? { capacityBlocks: args.capacity } : {}),
      batchLimit: args.batchLimit,
      prefillTokensPerSecond: args.prefillRate,
      decodeMsPerToken: args.decodeMs,
      policies: args.policies,
      seed: args.seed,
      ...(args.nats !== undefined ? { natsUrl: args.nats } : {}),
      onProgress: (policy, done, total) => progress.update(policy, order.get(policy) ?? 0, args.policies.length, done, total),
    });
  } finally {
    progress.end();
  }
  io.stdout.write(renderTable(report, io.stderr.isTTY === true && process.stdout.isTTY === true && io.stdout === process.stdout));
  if (args.json !== undefined) {
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    io.stdout.write(`wrote ${args.json}\n`);
  }
  if (args.html !== undefined) {
    writeFileSync(args.html, renderHtml(report));
    io.stdout.write(`wrote ${args.html}\n`);
  }
  return report;
}
