import { maskUrlPasswords } from './secrets.js';

/** What an AMQP URL is built from when the config gives no `url`/`urls`. */
export interface AmqpUrlParts {
  tls: boolean;
  host: string;
  /** undefined: the scheme's port (5672, or 5671 with TLS). */
  port: number | undefined;
  user: string;
  passwd: string;
  vhost: string;
}

/**
 * `amqp(s)://user:passwd@host:port/vhost` with user, password and vhost percent-encoded, so that
 * a vhost `/wfworker` becomes `%2Fwfworker` (the AMQP URI spec: the path is one segment) and a
 * password with `@` or `:` survives.
 */
export function buildAmqpUrl(parts: AmqpUrlParts): string {
  const scheme = parts.tls ? 'amqps' : 'amqp';
  const port = parts.port ?? (parts.tls ? 5671 : 5672);
  // A bare IPv6 address needs brackets to be told apart from the port.
  const host =
    parts.host.includes(':') && !parts.host.startsWith('[') ? `[${parts.host}]` : parts.host;
  const userinfo = `${encodeURIComponent(parts.user)}:${encodeURIComponent(parts.passwd)}`;
  return `${scheme}://${userinfo}@${host}:${port}/${encodeURIComponent(parts.vhost)}`;
}

/**
 * The URL with the password of its userinfo replaced by `***`, for messages and logs; also a URL
 * that does not parse (a raw `/` or `@` in the password), see maskUrlPasswords.
 */
export function redactUrl(url: string): string {
  return maskUrlPasswords(url);
}

/** Every URL of a comma-separated list, redacted (a raw `,` in a password included). */
export function redactUrlList(urls: string): string {
  return maskUrlPasswords(urls);
}
