import type { FastifyError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { codeFor } from '../../../src/api/http-errors.js';
import { TqError } from '../../../src/common/errors.js';

const fastifyError = (fields: Partial<FastifyError>): FastifyError =>
  Object.assign(new Error(fields.message ?? 'x'), fields) as FastifyError;

describe('codeFor', () => {
  it.each([
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 'TQ_ERR_API_BODY_TOO_LARGE'],
    [{ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 'TQ_ERR_API_MEDIA_TYPE'],
    [{ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 }, 'TQ_ERR_API_MALFORMED_JSON'],
    [{ code: 'FST_ERR_VALIDATION', statusCode: 400, validation: [] }, 'TQ_ERR_API_INVALID_REQUEST'],
    [{ code: 'FST_ERR_BAD_URL', statusCode: 400 }, 'TQ_ERR_API_INVALID_REQUEST'],
    [{ code: 'SOMETHING', statusCode: 500 }, 'TQ_ERR_API_INTERNAL'],
  ])('%o is %s', (fields, code) => {
    expect(codeFor(fastifyError(fields as Partial<FastifyError>)).code).toBe(code);
  });

  it("a TqError keeps its code and message; an internal error's text is not shown", () => {
    expect(codeFor(new TqError('TQ_ERR_API_TASK_NOT_FOUND', 'no task x'))).toEqual({
      code: 'TQ_ERR_API_TASK_NOT_FOUND',
      message: 'no task x',
    });
    expect(codeFor(fastifyError({ message: 'db password is hunter2' })).message).not.toContain(
      'hunter2',
    );
  });
});
