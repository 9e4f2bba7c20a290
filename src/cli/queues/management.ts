import { TqError } from '../../common/errors.js';
import { type QueueNaming, roleOf } from './our-queues.js';
import type { QueueRow } from './queue-row.js';

/** How long the management API may take to answer before the passive look is used instead. */
export const MANAGEMENT_TIMEOUT_MS = 5_000;
/** RabbitMQ's management listener when nothing says otherwise. */
const DEFAULT_PORTS = { 'amqp:': 15672, 'amqps:': 15671 } as const;

/** Where to ask, with the credentials apart (fetch refuses a URL that carries them). */
export interface ManagementTarget {
  /** The base URL without credentials, ending without a slash. */
  base: string;
  authorization: string;
  vhost: string;
}

/**
 * The management API to ask: `url` (the option or `[amqp] management_url`), else the broker's
 * host on RabbitMQ's default port (http 15672 for amqp, https 15671 for amqps). Credentials:
 * those of `url`, else the broker login of `amqpUrl` (guest/guest by default, as the broker's).
 * The vhost is the broker URL's.
 */
export function managementTarget(url: string | undefined, amqpUrl: string): ManagementTarget {
  const broker = new URL(amqpUrl);
  const target = url
    ? new URL(url)
    : new URL(
        `${broker.protocol === 'amqps:' ? 'https' : 'http'}://${broker.host.replace(/:\d+$/, '')}:${
          DEFAULT_PORTS[broker.protocol as keyof typeof DEFAULT_PORTS] ?? 15672
        }/`,
      );
  const from = target.username !== '' ? target : broker;
  const user = decodeURIComponent(from.username || 'guest');
  const password = decodeURIComponent(from.password || (from.username ? '' : 'guest'));
  target.username = '';
  target.password = '';
  const path = broker.pathname.replace(/^\//, '');
  return {
    base: target.toString().replace(/\/+$/, ''),
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    vhost: path === '' ? '/' : decodeURIComponent(path),
  };
}

/** A queue as GET /api/queues/{vhost} lists it (the fields used). */
export interface ManagementQueue {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: {
    publish_details?: { rate?: number };
    deliver_get_details?: { rate?: number };
  };
}

/**
 * Lists the vhost's queues through the management API. Fails with TQ_ERR_MANAGEMENT_API
 * (unreachable, an HTTP error such as 401 or 404, a body that is not a list of queues).
 */
export async function fetchQueues(
  target: ManagementTarget,
  timeoutMs = MANAGEMENT_TIMEOUT_MS,
): Promise<ManagementQueue[]> {
  const url = `${target.base}/api/queues/${encodeURIComponent(target.vhost)}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: target.authorization, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new TqError('TQ_ERR_MANAGEMENT_API', `${target.base} did not answer (${cause})`, {
      cause: err,
    });
  }
  if (!response.ok) {
    throw new TqError(
      'TQ_ERR_MANAGEMENT_API',
      `${target.base} answered HTTP ${response.status} for the queues of vhost ${target.vhost}`,
      { details: { status: response.status } },
    );
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!Array.isArray(body))
    throw new TqError('TQ_ERR_MANAGEMENT_API', `${target.base} did not answer a list of queues`);
  return body as ManagementQueue[];
}

/** The queues of the system among those the API listed, in the API's (name) order. */
export function managementRows(
  queues: ManagementQueue[],
  naming: Pick<QueueNaming, 'input' | 'results'>,
): QueueRow[] {
  return queues.flatMap((queue) => {
    const role = typeof queue.name === 'string' ? roleOf(queue.name, naming) : undefined;
    if (role === undefined) return [];
    return [
      {
        name: queue.name,
        role,
        exists: true,
        ready: queue.messages_ready ?? null,
        unacked: queue.messages_unacknowledged ?? null,
        consumers: queue.consumers ?? null,
        // No message_stats yet: nothing went through since the stats began (or not yet sampled).
        rate_in: queue.message_stats?.publish_details?.rate ?? 0,
        rate_out: queue.message_stats?.deliver_get_details?.rate ?? 0,
      },
    ];
  });
}
