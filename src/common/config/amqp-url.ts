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

/** The URL with the password of its userinfo replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/, '$1***@');
}

/** Every URL of a comma-separated list, redacted. */
export function redactUrlList(urls: string): string {
  return urls
    .split(',')
    .map((url) => {
      const lead = /^\s*/.exec(url)![0];
      return lead + redactUrl(url.slice(lead.length));
    })
    .join(',');
}
