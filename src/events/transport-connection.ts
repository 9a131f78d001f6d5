import { connect, type NatsConnection } from 'nats';
import { describe } from './transport-subjects.js';

/** How a NATS transport gets its connection: its own (`servers`) or one the caller owns (`connection`). */
export interface NatsConnectionOptions {
  /** Server URL(s), e.g. `nats://127.0.0.1:4222`. The transport connects and closes the connection itself. */
  servers?: string | string[];
  /** An open connection owned by the caller; `close()` leaves it open. Takes precedence over `servers`. */
  connection?: NatsConnection;
  /** Connection name shown by the server (own connections only). */
  name?: string;
  /** Base wait between reconnect attempts in ms (own connections only). Default 250. */
  reconnectTimeWait?: number;
  /** Random extra wait per reconnect attempt in ms (own connections only). Default 250. */
  reconnectJitter?: number;
}

/** An open connection and whether the transport must close it. @internal */
export interface HeldConnection {
  nc: NatsConnection;
  owned: boolean;
}

/**
 * Uses `options.connection`, or connects to `options.servers` reconnecting forever with jittered
 * waits (an event router must outlive NATS restarts).
 * @internal
 */
export async function holdConnection(options: NatsConnectionOptions, what: string): Promise<HeldConnection> {
  if (options.connection) return { nc: options.connection, owned: false };
  const servers = options.servers;
  const valid = typeof servers === 'string' ? servers.length > 0 : Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === 'string' && s.length > 0);
  if (!valid) {
    throw new TypeError(`${what}: expected \`servers\` (URL string or array) or \`connection\`, got servers=${describe(servers)}`);
  }
  const nc = await connect({
    servers,
    name: options.name ?? 'kvrouter',
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWait ?? 250,
    reconnectJitter: options.reconnectJitter ?? 250,
    waitOnFirstConnect: true,
  });
  return { nc, owned: true };
}

/** Drains and closes an owned connection; for a borrowed one, only flushes. Never throws. @internal */
export async function releaseConnection(held: HeldConnection): Promise<void> {
  try {
    if (held.nc.isClosed()) return;
    if (held.owned) await held.nc.drain();
    else await held.nc.flush();
  } catch {
    if (held.owned && !held.nc.isClosed()) await held.nc.close().catch(() => undefined);
  }
}
