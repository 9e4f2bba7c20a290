/**
 * AMQP 0-9-1 reply codes the system acts on, by name (the spec's constants; amqplib's
 * `defs.constants` has them too, but as a value of its internals). amqplib puts the code of a
 * channel or connection close on the error it emits as `err.code`, a number; errors are
 * classified by it, never by the broker's text.
 */
export const ReplyCode = {
  /** 320: the broker closes the connection (it stops, an operator forced it): reconnect. */
  CONNECTION_FORCED: 320,
  /** 403: the user may not do this (login, vhost, configure/write permission). */
  ACCESS_REFUSED: 403,
  /** 404: the exchange or queue named does not exist. */
  NOT_FOUND: 404,
  /** 405: an exclusive queue of another connection. */
  RESOURCE_LOCKED: 405,
  /**
   * 406: a declare with other arguments than the existing queue's, or a publish the broker
   * refuses for good (above max_message_size).
   */
  PRECONDITION_FAILED: 406,
  /** 530: the vhost does not exist, or the operation is not allowed. */
  NOT_ALLOWED: 530,
  /** 541: the broker failed internally. */
  INTERNAL_ERROR: 541,
} as const;

/**
 * Codes after which doing the same again on a new channel fails the same way: an operator or
 * the configuration has to change something first (amqp-connection-manager's
 * IRRECOVERABLE_ERRORS, restricted to the codes a channel of ours can meet).
 */
export const IRRECOVERABLE_REPLY_CODES: ReadonlySet<number> = new Set([
  ReplyCode.ACCESS_REFUSED,
  ReplyCode.NOT_FOUND,
  ReplyCode.RESOURCE_LOCKED,
  ReplyCode.PRECONDITION_FAILED,
  ReplyCode.NOT_ALLOWED,
]);

/** basic.publish's class and method ids, as a channel close names the method it refused. */
export const BASIC_PUBLISH = { classId: 60, methodId: 40 } as const;

/** queue.declare and exchange.declare, as a channel close names the method it refused. */
export const QUEUE_DECLARE = { classId: 50, methodId: 10 } as const;
export const EXCHANGE_DECLARE = { classId: 40, methodId: 10 } as const;

/**
 * A 406 that refused a declaration: a queue or exchange of that name exists with other
 * arguments, and another attempt fails the same way. A 406 on another method is not one: a
 * stream consumed just after it was declared answers basic.consume with 406 until its replica
 * on this node is up (a few hundred ms on a fresh broker), and another attempt succeeds. A close
 * without the method's ids (not amqplib's rpc path) counts as a declaration, as before.
 */
export function isDeclarationRefusal(err: unknown): boolean {
  if (replyCodeOf(err) !== ReplyCode.PRECONDITION_FAILED) return false;
  const { classId, methodId } = err as { classId?: unknown; methodId?: unknown };
  if (typeof classId !== 'number' || typeof methodId !== 'number') return true;
  return [QUEUE_DECLARE, EXCHANGE_DECLARE].some(
    (m) => m.classId === classId && m.methodId === methodId,
  );
}

/** The reply code of an amqplib close error (`err.code`), or undefined when it has none. */
export function replyCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * amqplib throws IllegalOperationError from `publish` (and every other send) once the channel
 * or its connection is closing or closed: nothing was sent. Told by name, as
 * amqp-connection-manager does, so that it holds across copies of amqplib.
 */
export function isIllegalOperation(err: unknown): boolean {
  return err instanceof Error && err.name === 'IllegalOperationError';
}
