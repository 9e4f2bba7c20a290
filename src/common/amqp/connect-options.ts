import { hostname } from 'node:os';
import type { AmqpConfig } from '../config/types.js';
import { readTlsMaterial } from './tls-material.js';

/** What amqplib's `connect(url, socketOptions)` needs for one URL. */
export interface ConnectTarget {
  url: string;
  socketOptions: Record<string, unknown>;
}

/**
 * amqplib options for every URL of the config. `noDelay` matters: without it Nagle's algorithm
 * holds small frames back and a one-at-a-time round trip costs ~40 ms.
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
        timeout: 10_000,
        ...(withHeartbeat.protocol === 'amqps:' ? tls : {}),
        clientProperties: { connection_name: `${connectionName}@${hostname()}:${process.pid}` },
      },
    };
  });
}
