import { INVALID, type ValueParser } from './values.js';

/** Where a daemon's metrics endpoint listens: a TCP address (metrics.md). */
export interface ListenAddress {
  /** An IP address or host name, as Node's `server.listen` takes it (IPv6 without brackets). */
  host: string;
  /** 0: any free port (the daemon logs the one it got; for tests). */
  port: number;
}

const NAME_OR_IPV4 = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;

/**
 * `HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`), or empty / `none`: no endpoint.
 * The host is required: an endpoint on every interface is something to write out, not a default.
 */
export const listenAddress: ValueParser<ListenAddress | undefined> = (value) => {
  if (value === '' || value.toLowerCase() === 'none') return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  if (!match) return INVALID;
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65535) return INVALID;
  if (match[1] !== undefined ? !IPV6.test(host) : !NAME_OR_IPV4.test(host)) return INVALID;
  return { host, port };
};
