import { buildAmqpUrl, redactUrl } from './amqp-url.js';
import type { IniDocument } from './parse.js';
import type { ProblemList } from './problems.js';
import { checkKnownKeys, tableReader } from './read.js';
import { AMQP_KEYS } from './schema.js';
import type { AmqpConfig } from './types.js';
import { amqpUrl, INVALID } from './values.js';
import { SectionView } from './view.js';

/** The environment variable that overrides the broker URLs of the file (SPEC §4, §6). */
export const AMQP_URL_ENV = 'TASKQUEUE_AMQP_URL';

/**
 * [amqp] alone (not [DEFAULT]: its `user` is a Unix user for the children, not the broker login;
 * see fixed-defaults.ts), with `TASKQUEUE_AMQP_URL` taking precedence.
 */
export function resolveAmqp(
  doc: IniDocument,
  env: NodeJS.ProcessEnv,
  problems: ProblemList,
): AmqpConfig {
  const view = new SectionView(doc, [doc.sections.get('amqp')], 'references-only');
  checkKnownKeys(view, 'amqp', AMQP_KEYS, problems);
  const read = tableReader(view, AMQP_KEYS, problems);

  const tls = {
    ca: read('tls_ca'),
    cert: read('tls_cert'),
    key: read('tls_key'),
  };
  // Every key is read, even those the URL precedence makes unused, so that a malformed one is
  // reported now rather than when someone removes the key that shadowed it.
  const parts = {
    tls: tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined,
    host: read('host'),
    port: read('port'),
    user: read('user'),
    passwd: read('passwd'),
    vhost: read('vhost'),
  };
  const url = read('url');
  const urls = read('urls');

  return {
    urls: envUrl(env, problems) ?? urls ?? (url === undefined ? [buildAmqpUrl(parts)] : [url]),
    heartbeat: read('heartbeat'),
    tls,
    queueType: read('queue_type'),
    connectRetries: read('connect_retries'),
    ...optionalManagementUrl(read('management_url')),
  };
}

/** The URL list from the environment, or undefined when the variable is unset or empty. */
function envUrl(env: NodeJS.ProcessEnv, problems: ProblemList): string[] | undefined {
  const value = env[AMQP_URL_ENV]?.trim();
  if (value === undefined || value === '') return undefined;
  if (amqpUrl(value) !== INVALID) return [value];
  problems.add({
    file: 'environment',
    line: 0,
    section: undefined,
    key: AMQP_URL_ENV,
    value: redactUrl(value),
    expected: 'an amqp:// or amqps:// URL',
  });
  return undefined;
}

/** Only when set: an AmqpConfig without the key compares equal to one written before it existed. */
function optionalManagementUrl(url: string | undefined): { managementUrl?: string } {
  return url === undefined ? {} : { managementUrl: url };
}
