import { describe, expect, it } from 'vitest';
import {
  MAX_REQUEST_BYTES,
  parseStatusRequest,
  responseLine,
  STATUS_PROTOCOL,
} from '../../../src/common/status/protocol.js';
import { StatusThrottle } from '../../../src/common/status/status-updates.js';
import { watchdogIntervalMs } from '../../../src/common/status/watchdog.js';

describe('status socket requests', () => {
  it('accepts {"get":"status"}, with or without other keys', () => {
    expect(parseStatusRequest('{"get":"status"}')).toEqual({
      ok: true,
      request: { get: 'status' },
    });
    expect(parseStatusRequest(' {"get":"status","x":1} ').ok).toBe(true);
  });

  it.each([
    ['', 'not JSON'],
    ['status', 'not JSON'],
    ['[1]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['"status"', 'not a JSON object'],
    ['{}', 'unknown request'],
    ['{"get":"metrics"}', 'unknown request'],
    ['{"get":["status"]}', 'unknown request'],
  ])('refuses %j with TQ_ERR_STATUS_REQUEST', (line, why) => {
    const parsed = parseStatusRequest(line);
    expect(parsed).toMatchObject({ ok: false, code: 'TQ_ERR_STATUS_REQUEST' });
    expect(parsed.ok ? '' : parsed.message).toContain(why);
  });

  it('refuses a line longer than MAX_REQUEST_BYTES unparsed', () => {
    const long = `{"get":"status","pad":"${'x'.repeat(MAX_REQUEST_BYTES)}"}`;
    expect(parseStatusRequest(long)).toMatchObject({ ok: false, code: 'TQ_ERR_STATUS_REQUEST' });
  });

  it('answers one line', () => {
    const line = responseLine({ ok: true, protocol: STATUS_PROTOCOL, status: { a: 'b\nc' } });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
  });
});

describe('STATUS= throttle', () => {
  it('sends a new state at once, new counts at most every refresh, nothing unchanged', () => {
    const throttle = new StatusThrottle(10_000);
    const at = (line: string, key: string, now: number) => throttle.next({ line, key }, now);
    expect(at('consuming q; 0 forwarded', 'consuming', 0)).toBe('consuming q; 0 forwarded');
    expect(at('consuming q; 0 forwarded', 'consuming', 1_000)).toBeUndefined();
    expect(at('consuming q; 5 forwarded', 'consuming', 2_000)).toBeUndefined();
    expect(at('consuming q; 9 forwarded', 'consuming', 9_999)).toBeUndefined();
    expect(at('consuming q; 9 forwarded', 'consuming', 10_000)).toBe('consuming q; 9 forwarded');
    expect(at('paused q; 9 forwarded', 'paused', 10_500)).toBe('paused q; 9 forwarded');
    expect(at('consuming q; 9 forwarded', 'consuming', 10_600)).toBe('consuming q; 9 forwarded');
  });
});

describe('the watchdog interval', () => {
  it('is half of WATCHDOG_USEC, for this process only', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 7)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '7' }, 7)).toBe(1_500);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({}, 7)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '1' }, 7)).toBe(1);
  });
});
