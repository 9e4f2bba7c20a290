import { hostname } from 'node:os';
import type { AmqpConfig } from '../config/types.js';
import { backoffDelayBound } from './backoff.js';
import { readTlsMaterial } from './tls-material.js';

/**
 * amqplib's `timeout`: how long one attempt may take from the TCP connect to the end of the
 * handshake (a host that drops packets, a broker that does not answer).
 */
export const CONNECT_TIMEOUT_MS = 10_000;

/** What amqplib's `connect(url, socketOptions)` needs for one URL. */
export interface ConnectTarget {
  url: string;
  socketOptions: Record<string, unknown>;
}

/**
 * amqplib options for every URL of the config. `noDelay` matters: without it Nagle's algorithm
 * holds small frames back, and a one-at-a-time round trip waits for the peer's delayed ack
 * (figure in bench/FINDINGS.md).
 */
export function connectTargets(amqp: AmqpConfig, connectionName: string): ConnectTarget[] {
  const material = amqp.tlsMaterial ?? readTlsMaterial(amqp);
  const tls: Record<string, unknown> = {};
  if (material.ca) tls.ca = [material.ca];
  if (material.cert) tls.cert = material.cert;
  if (material.key) tls.key = material.key;
  return amqp.urls.map((url) => {
    const withHeartbeat = new URL(url);
    if (!withHeartbeat.searchParams.has('heartbeat')) {
      withHeartbeat.searchParams.set('heartbeat', String(amqp.heartbeat));
    }
    return {
      url: withHeartbeat.toString(),
      socketOptions: {
        noDelay: true,
        timeout: CONNECT_TIMEOUT_MS,
        ...(withHeartbeat.protocol === 'amqps:' ? tls : {}),
        clientProperties: { connection_name: `${connectionName}@${hostname()}:${process.pid}` },
      },
    };
  });
}

/**
 * The longest `connectRetries` failed attempts can take before a program gives up with exit 69:
 * every attempt timing out, every backoff at its upper bound (the loop also waits after the last
 * attempt). With the default 30 retries: 31 × 10 s + 262.6 s = 572.6 s. The daemons tell systemd
 * to wait that long for READY=1 (daemon.ts).
 */
export function worstCaseConnectMs(connectRetries: number): number {
  let total = 0;
  for (let attempt = 0; attempt <= connectRetries; attempt++) {
    total += CONNECT_TIMEOUT_MS + backoffDelayBound(attempt);
  }
  return total;
}
