/**
 * Starts a real `nats-server` for tests: on a free port with JetStream and a temp store dir, so
 * it can be killed (SIGKILL) and restarted on the same port with the same store.
 *
 * Without the binary, tests may use `NATS_URL` (no kill/restart then). Without either, tests skip
 * loudly; under `CI=true` they fail instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of the nats-server binary, from `NATS_SERVER_BIN` or the usual places. */
export function natsServerBinary(): string | undefined {
  const candidates = [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
  return candidates.find((path): path is string => typeof path === 'string' && path.length > 0 && existsSync(path));
}

/** What a NATS test can run against. */
export type NatsAvailability =
  | { kind: 'binary'; binary: string }
  | { kind: 'url'; url: string }
  | { kind: 'none'; reason: string };

/** Decides how NATS tests run; logs loudly when they cannot; throws under CI=true. */
export function natsAvailability(needsRestart = false): NatsAvailability {
  const binary = natsServerBinary();
  if (binary) return { kind: 'binary', binary };
  const url = process.env.NATS_URL;
  if (url && !needsRestart) return { kind: 'url', url };
  const reason = needsRestart
    ? 'no nats-server binary (kill/restart tests need one; set NATS_SERVER_BIN)'
    : 'no nats-server binary and no NATS_URL';
  if (process.env.CI === 'true') throw new Error(`NATS tests cannot run under CI: ${reason}`);
  console.warn(`\n!!! SKIPPING NATS TESTS: ${reason} !!!\n`);
  return { kind: 'none', reason };
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A nats-server process the test controls. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private stderr = '';

  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly storeDir: string,
  ) {}

  /** Starts a server with JetStream on a free port and a fresh store dir. */
  static async start(binary: string): Promise<NatsServer> {
    const server = new NatsServer(binary, await freePort(), mkdtempSync(join(tmpdir(), 'kvrouter-nats-')));
    await server.restart();
    return server;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts the server on the same port and store dir; resolves when it accepts connections. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('nats-server is already running');
    this.stderr = '';
    const child = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.child = child;
    try {
      await waitForPort(this.port);
      await this.waitForJetStream();
    } catch (error) {
      throw new Error(`nats-server did not start: ${(error as Error).message}\n${this.stderr}`);
    }
  }

  /** Kills the server with SIGKILL (no graceful shutdown, like a crash) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server and removes its store dir. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private async waitForJetStream(): Promise<void> {
    // The server logs "Server is ready" once JetStream and the client port are up.
    const deadline = Date.now() + 10_000;
    while (!this.stderr.includes('Server is ready')) {
      if (Date.now() > deadline) throw new Error('no "Server is ready" line in the log');
      if (!this.running) throw new Error('exited early');
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** `nats-server --version` output, e.g. `nats-server: v2.9.10`. */
export async function natsServerVersion(binary: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => resolve(out.trim()));
    child.on('error', () => resolve('unknown'));
  });
}
