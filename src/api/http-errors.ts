import type { FastifyError, FastifyReply } from 'fastify';
import { type ErrorCode, ErrorCodes, TqError } from '../common/errors.js';

/** The HTTP status of each error code the API answers with. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  TQ_ERR_API_UNAUTHENTICATED: 401,
  TQ_ERR_API_TOKEN_INVALID: 401,
  TQ_ERR_API_FORBIDDEN: 403,
  TQ_ERR_API_MALFORMED_JSON: 400,
  TQ_ERR_API_INVALID_REQUEST: 400,
  TQ_ERR_DELAY_INVALID: 400,
  // Refused by the direct path as the dispatcher would park them ([dispatcher] types, max_body_size).
  TQ_ERR_TASK_TYPE_NOT_ALLOWED: 400,
  TQ_ERR_TASK_TOO_LARGE: 413,
  TQ_ERR_API_BODY_TOO_LARGE: 413,
  TQ_ERR_API_MEDIA_TYPE: 415,
  TQ_ERR_API_TASK_NOT_FOUND: 404,
  TQ_ERR_API_NOT_FOUND: 404,
  TQ_ERR_API_PUBLISH: 503,
  TQ_ERR_API_INTERNAL: 500,
  TQ_ERR_API_BROKER: 503,
  TQ_ERR_API_QUEUE_NOT_FOUND: 404,
  TQ_ERR_DEAD_NOT_FOUND: 404,
  TQ_ERR_API_TASK_FINAL: 409,
  TQ_ERR_API_NOT_RETRYABLE: 409,
  TQ_ERR_API_NO_WORKITEM: 409,
  TQ_ERR_API_DASHBOARD_MISSING: 404,
};

/** What every error answer's body is: `{error: {code, message}}` (docs/api.md). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const body: ErrorBody = { error: { code, message } };
  return reply.code(STATUS[code] ?? 500).send(body);
}

/**
 * The code for an error fastify or a route threw: its own for a TqError, the schema's for a
 * validation failure, and by fastify's stable error codes (never its message text) for a body
 * it could not take.
 */
export function codeFor(err: FastifyError | TqError): { code: ErrorCode; message: string } {
  if (err instanceof TqError) return { code: err.code, message: err.message };
  if (err.validation) return { code: 'TQ_ERR_API_INVALID_REQUEST', message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'TQ_ERR_API_BODY_TOO_LARGE', message: err.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'TQ_ERR_API_MEDIA_TYPE', message: err.message };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'TQ_ERR_API_MALFORMED_JSON', message: err.message };
  }
  // fastify's JSON parser throws a SyntaxError with status 400 for a body that is not JSON.
  if (err instanceof SyntaxError || (err.statusCode === 400 && err.name === 'SyntaxError')) {
    return { code: 'TQ_ERR_API_MALFORMED_JSON', message: `body is not JSON: ${err.message}` };
  }
  // Any other request fastify itself refuses (a malformed URL, say) is the client's, not ours.
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { code: 'TQ_ERR_API_INVALID_REQUEST', message: err.message };
  }
  return { code: 'TQ_ERR_API_INTERNAL', message: ErrorCodes.TQ_ERR_API_INTERNAL };
}
