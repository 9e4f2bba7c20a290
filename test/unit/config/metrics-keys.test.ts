import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/common/config/load.js';
import { thrownBy } from './helpers.js';

const load = (text: string) => parseConfigText(text, 'test.ini', {});

describe('metrics_listen and metrics_token_file', () => {
  it('are off, with the packaged token file, unless set', () => {
    const config = load('');
    for (const metrics of [config.dispatcher.metrics, config.workerpool.metrics])
      expect(metrics).toEqual({ listen: undefined, tokenFile: '/etc/taskqueue/metrics.token' });
  });

  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['[::1]:9465', { host: '::1', port: 9465 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['none', undefined],
  ])('reads %s', (value, listen) => {
    const config = load(
      `[dispatcher]\nmetrics_listen = ${value}\n[workerpool]\nmetrics_listen = ${value}\n`,
    );
    expect(config.dispatcher.metrics.listen).toEqual(listen);
    expect(config.workerpool.metrics.listen).toEqual(listen);
  });

  it('takes none for no token, or an absolute path', () => {
    const config = load(
      '[dispatcher]\nmetrics_token_file = none\n[workerpool]\nmetrics_token_file = /run/t\n',
    );
    expect(config.dispatcher.metrics.tokenFile).toBeUndefined();
    expect(config.workerpool.metrics.tokenFile).toBe('/run/t');
  });

  it.each([
    ['metrics_listen', '9464'],
    ['metrics_listen', '127.0.0.1'],
    ['metrics_listen', '127.0.0.1:65536'],
    ['metrics_listen', '::1:9464'],
    ['metrics_listen', '[localhost]:9464'],
    ['metrics_listen', 'http://127.0.0.1:9464'],
    ['metrics_token_file', 'metrics.token'],
  ])('refuses %s = %s', (key, value) => {
    for (const section of ['dispatcher', 'workerpool']) {
      const err = thrownBy(() => load(`[${section}]\n${key} = ${value}\n`));
      expect(err.code).toBe('TQ_ERR_CONFIG_VALUE');
    }
  });
});
