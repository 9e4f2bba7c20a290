import { describe, expect, it } from 'vitest';
import { isDeclarationRefusal } from '../../../src/common/amqp/reply-codes.js';

/** A channel close as amqplib reports it from an rpc (convertCloseFrameToError). */
function closed(code: number, classId: number, methodId: number, text: string): Error {
  return Object.assign(new Error(text), { code, classId, methodId });
}

describe('isDeclarationRefusal', () => {
  it('is a queue.declare or exchange.declare refused with 406', () => {
    const queue = closed(406, 50, 10, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'");
    const exchange = closed(406, 40, 10, "PRECONDITION_FAILED - inequivalent arg 'type'");
    expect(isDeclarationRefusal(queue)).toBe(true);
    expect(isDeclarationRefusal(exchange)).toBe(true);
  });

  it('is not a basic.consume refused with 406: a stream whose local replica is not up yet', () => {
    // Seen on a fresh broker: a second child consumed taskqueue.cancels just after the first
    // declared it, and was told to try again later by the same code a mismatch gets.
    const consume = closed(
      406,
      60,
      20,
      "PRECONDITION_FAILED - queue 'taskqueue.cancels' in vhost '/' does not have a replica on the local node",
    );
    expect(isDeclarationRefusal(consume)).toBe(false);
  });

  it('is not another code on a declare', () => {
    expect(isDeclarationRefusal(closed(404, 50, 10, 'NOT_FOUND'))).toBe(false);
    expect(isDeclarationRefusal(new Error('connect ECONNREFUSED'))).toBe(false);
  });

  it('counts a 406 without the method named as a declaration, as before', () => {
    expect(isDeclarationRefusal(Object.assign(new Error('406'), { code: 406 }))).toBe(true);
  });
});
