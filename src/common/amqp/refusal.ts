import { redactUrl } from '../config/amqp-url.js';
import { TqError } from '../errors.js';
import { ReplyCode, replyCodeOf } from './reply-codes.js';

/**
 * Whether a failed connection attempt was the broker refusing who we are or where we go (a
 * configuration error: retrying cannot heal it) rather than the broker being out of reach,
 * starting or stopping (it can: the caller retries).
 *
 * amqplib 2.x reports the three ways differently, checked against RabbitMQ 3.x/4.x:
 *
 *  - A close once the connection is open carries the reply code as `err.code`, a number: the
 *    structured field, used first (403 on a declare the user may not configure; 320
 *    CONNECTION_FORCED while the broker stops, which is retried).
 *  - A wrong user or password: RabbitMQ answers start-ok with connection.close 403 (amqplib asks
 *    for it with the capability authentication_failure_close), and amqplib puts the reply code
 *    only into the message, "Handshake terminated by server: 403 (ACCESS-REFUSED) with message
 *    …": the number after that fixed prefix is the most structured field there is.
 *  - A vhost that does not exist (530 NOT_ALLOWED) or that the user has no permission on (403):
 *    RabbitMQ answers connection.open with connection.close, and amqplib drops the frame's fields
 *    ("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"), so only the fact that the
 *    broker closed in reply to connection.open is left. RabbitMQ sends that close also when a
 *    connection limit (max-connections of the vhost or user) is reached or the vhost is down;
 *    without the reply code those cannot be told apart, and they need an operator too.
 *
 * Everything else (ECONNREFUSED, ETIMEDOUT, a socket closed during the handshake, 320, 541) is
 * left to the retries.
 */

/** AMQP reply codes that name a refusal of the credentials or the vhost. */
const REFUSING_REPLY_CODES: ReadonlySet<number> = new Set([
  ReplyCode.ACCESS_REFUSED, // wrong user or password, or no permission on the vhost
  ReplyCode.NOT_ALLOWED, // the vhost does not exist
]);

const HANDSHAKE_CLOSE = /^Handshake terminated by server: (\d{3}) /;
const OPEN_REFUSED = /^Expected ConnectionOpenOk; got <ConnectionClose\b/;

/** How the broker refused the connection, or undefined when it did not (retry). */
export interface BrokerRefusal {
  /** The AMQP reply code, when amqplib kept it. */
  replyCode: number | undefined;
  /**
   * What the broker refused: the login (start-ok), the vhost (connection.open), or an operation
   * on the open connection (a declare without the configure permission, say).
   */
  step: 'login' | 'vhost' | 'operation';
}

/** Classifies an error of amqplib's `connect()`; see the file comment for why this way. */
export function brokerRefusal(err: unknown): BrokerRefusal | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = replyCodeOf(err);
  if (code !== undefined) {
    return REFUSING_REPLY_CODES.has(code) ? { replyCode: code, step: 'operation' } : undefined;
  }
  const message = (err as { message?: unknown }).message;
  if (typeof message !== 'string') return undefined;
  const handshake = HANDSHAKE_CLOSE.exec(message);
  if (handshake) {
    const replyCode = Number(handshake[1]);
    return REFUSING_REPLY_CODES.has(replyCode) ? { replyCode, step: 'login' } : undefined;
  }
  if (OPEN_REFUSED.test(message)) return { replyCode: undefined, step: 'vhost' };
  return undefined;
}

/** Who connected where, as the broker saw it: the URL's user (guest) and vhost (/). */
export function userAndVhost(url: string): { user: string; vhost: string } {
  const parsed = new URL(url);
  // amqplib's defaults for a URL without them.
  const user = parsed.username || parsed.password ? decodeURIComponent(parsed.username) : 'guest';
  const vhost = decodeURIComponent(parsed.pathname.slice(1)) || '/';
  return { user, vhost };
}

/**
 * TQ_ERR_AMQP_ACCESS_REFUSED for `url`: names the user and the vhost, never the password (the URL
 * is redacted, and RabbitMQ's reply text does not contain it).
 */
export function accessRefusedError(url: string, refusal: BrokerRefusal, cause: unknown): TqError {
  const { user, vhost } = userAndVhost(url);
  const where = `the broker at ${redactUrl(url)}`;
  const why = cause instanceof Error ? cause.message : String(cause);
  const message =
    refusal.step === 'login'
      ? `${where} refused the login of user "${user}" (wrong user or password): ${why}`
      : refusal.step === 'vhost'
        ? `${where} refused user "${user}" on vhost "${vhost}": the vhost does not exist, the ` +
          'user has no permission on it, or a connection limit is reached (the broker log says ' +
          `which; see rabbitmqctl list_vhosts and list_permissions -p "${vhost}")`
        : `${where} refused user "${user}" on vhost "${vhost}" an operation: ${why}`;
  return new TqError('TQ_ERR_AMQP_ACCESS_REFUSED', `${message}. Not retried: check [amqp]`, {
    cause,
    details: { user, vhost, url: redactUrl(url), replyCode: refusal.replyCode },
  });
}
