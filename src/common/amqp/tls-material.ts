import { readFileSync } from 'node:fs';
import type { AmqpConfig, TlsMaterial } from '../config/types.js';
import { TqError } from '../errors.js';

/** Reads the config's TLS files now; throws TQ_ERR_CONFIG_TLS_READ naming the key and file. */
export function readTlsMaterial(amqp: AmqpConfig): TlsMaterial {
  const read = (key: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new TqError(
        'TQ_ERR_CONFIG_TLS_READ',
        `[amqp] ${key} = ${file}: cannot read it: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return {
    ca: read('tls_ca', amqp.tls.ca),
    cert: read('tls_cert', amqp.tls.cert),
    key: read('tls_key', amqp.tls.key),
  };
}

/** The config with its TLS files read, for a process that will no longer be able to read them. */
export function withTlsMaterial(amqp: AmqpConfig): AmqpConfig {
  return { ...amqp, tlsMaterial: readTlsMaterial(amqp) };
}
