import { describe, expect, it } from 'vitest';
import { backoffDelay, backoffDelayBound } from '../../../src/common/amqp/backoff.js';
import {
  CONNECT_TIMEOUT_MS,
  worstCaseConnectMs,
} from '../../../src/common/amqp/connect-options.js';
import {
  accessRefusedError,
  brokerRefusal,
  userAndVhost,
} from '../../../src/common/amqp/refusal.js';
import { exitStatusFor } from '../../../src/common/exit.js';

/** Errors as amqplib 2.x reports them against RabbitMQ (seen in test/integration/broker-auth). */
const amqplib = {
  wrongPassword: new Error(
    'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login ' +
      'was refused using authentication mechanism PLAIN. For details see the broker logfile."',
  ),
  vhostRefused: new Error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
  brokerStopping: new Error(
    'Handshake terminated by server: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - ' +
      "broker forced connection closure with reason 'shutdown'\"",
  ),
  socketClosed: new Error('Socket closed abruptly during opening handshake'),
  timeout: new Error('connect ETIMEDOUT'),
  refused: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), {
    code: 'ECONNREFUSED',
  }),
};

function closedWith(code: number): Error {
  return Object.assign(new Error(`Connection closed: ${code}`), { code });
}

describe('brokerRefusal', () => {
  it('refuses a wrong user or password by the reply code of the handshake close', () => {
    expect(brokerRefusal(amqplib.wrongPassword)).toEqual({ replyCode: 403, step: 'login' });
  });

  it('refuses a missing vhost or permission: connection.open answered by a close', () => {
    expect(brokerRefusal(amqplib.vhostRefused)).toEqual({ replyCode: undefined, step: 'vhost' });
  });

  it('refuses 403 and 530 closes of an open connection, by the numeric code', () => {
    expect(brokerRefusal(closedWith(403))).toEqual({ replyCode: 403, step: 'operation' });
    expect(brokerRefusal(closedWith(530))).toEqual({ replyCode: 530, step: 'operation' });
  });

  it.each([
    ['a broker shutting down (320 in the handshake)', amqplib.brokerStopping],
    ['a broker shutting down (320 when open)', closedWith(320)],
    ['a vhost that is down (541)', closedWith(541)],
    ['a socket closed during the handshake', amqplib.socketClosed],
    ['a timeout', amqplib.timeout],
    ['a refused TCP connection', amqplib.refused],
    ['a non-error', 'boom'],
  ])('leaves %s to the retries', (_name, err) => {
    expect(brokerRefusal(err)).toBeUndefined();
  });
});

describe('accessRefusedError', () => {
  it('names user and vhost, never the password, and maps to exit 78', () => {
    const url = 'amqp://tq%20user:s3cr%40t@rabbit.example.org:5672/%2Fprod?heartbeat=30';
    const err = accessRefusedError(
      url,
      { replyCode: undefined, step: 'vhost' },
      amqplib.vhostRefused,
    );
    expect(err.code).toBe('TQ_ERR_AMQP_ACCESS_REFUSED');
    expect(err.message).toContain('user "tq user"');
    expect(err.message).toContain('vhost "/prod"');
    expect(err.message).not.toContain('s3cr');
    expect(err.details).toMatchObject({ user: 'tq user', vhost: '/prod' });
    expect(JSON.stringify(err.details)).not.toContain('s3cr');
    expect(exitStatusFor(err)).toBe(78);
  });

  it('reads amqplib defaults for a URL without user or vhost', () => {
    expect(userAndVhost('amqp://rabbit.example.org')).toEqual({ user: 'guest', vhost: '/' });
    expect(userAndVhost('amqp://rabbit.example.org/')).toEqual({ user: 'guest', vhost: '/' });
  });
});

describe('worstCaseConnectMs', () => {
  it('adds every attempt timing out and every backoff at its bound, the last one included', () => {
    expect(worstCaseConnectMs(0)).toBe(CONNECT_TIMEOUT_MS + 200);
    expect(worstCaseConnectMs(30)).toBe(31 * CONNECT_TIMEOUT_MS + 262_600);
  });

  it('bounds what backoffDelay draws', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      expect(backoffDelay(attempt)).toBeLessThanOrEqual(backoffDelayBound(attempt));
      expect(backoffDelay(attempt)).toBeGreaterThanOrEqual(backoffDelayBound(attempt) / 2 - 1);
    }
  });
});
