import type { AmqpConfig } from '../../src/common/config/types.js';

/** The [amqp] config of a program the test runs in-process (the tracker, the API's publisher). */
export function testAmqpConfig(url: string, connectRetries = 60): AmqpConfig {
  return {
    urls: [url],
    heartbeat: 30,
    tls: { ca: undefined, cert: undefined, key: undefined },
    queueType: 'classic',
    connectRetries,
  };
}
