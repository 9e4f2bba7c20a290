import { ERROR_BODY } from './schemas.js';

/** The errors a route may answer with, for the OpenAPI description. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, ERROR_BODY]));
