import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../common/errors.js';
import { sendError } from '../http-errors.js';
import { type ApiToken, allows, findToken, type Role } from './tokens.js';

/**
 * What a route needs: a role, or `public` for the dashboard's files (they hold no data: every
 * datum comes from /v1 with a token).
 */
export type RouteRole = Role | 'public';

/** Who made a request: a token's name, or `loopback` when loopback needs no token. */
export interface Caller {
  name: string;
  role: Role;
  /** Let in from loopback without a token (`[api] loopback_without_token = yes`). */
  loopback: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** The role a route needs; every route says (a route without one is refused). */
    role?: RouteRole;
  }
}

export interface GuardOptions {
  /** Read at each request: the daemon reloads the file on SIGHUP. */
  tokens: () => readonly ApiToken[];
  loopbackWithoutToken: boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

/**
 * Decides a request from its Authorization header and the role its route needs. Pure, for the
 * unit tests; `guard` applies it.
 */
export function decide(
  options: GuardOptions,
  header: string | undefined,
  remoteAddress: string | undefined,
  needed: RouteRole | undefined,
): { caller: Caller } | { public: true } | { refuse: ErrorCode; message: string } {
  // No token asked nor looked at: a public route answers everyone alike.
  if (needed === 'public') return { public: true };
  let caller: Caller;
  const bearer = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
  if (header === undefined && options.loopbackWithoutToken && isLoopback(remoteAddress)) {
    caller = { name: 'loopback', role: 'operate', loopback: true };
  } else if (bearer === undefined) {
    return {
      refuse: 'TQ_ERR_API_UNAUTHENTICATED',
      message: 'send Authorization: Bearer <token> (a token of the API tokens file)',
    };
  } else {
    const token = findToken(options.tokens(), bearer);
    if (token === undefined) {
      return { refuse: 'TQ_ERR_API_TOKEN_INVALID', message: 'the bearer token is not known' };
    }
    caller = { name: token.name, role: token.role, loopback: false };
  }
  // A route that forgot to say its role is treated as operating: refusing is the safe mistake.
  const role = needed ?? 'operate';
  if (!allows(caller.role, role)) {
    return {
      refuse: 'TQ_ERR_API_FORBIDDEN',
      message: `token ${caller.name} has role ${caller.role}; this needs ${role}`,
    };
  }
  return { caller };
}

/** The onRequest hook: refuses with 401/403, or records the caller on the request. */
export function guard(options: GuardOptions) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const decision = decide(
      options,
      request.headers.authorization,
      request.socket.remoteAddress,
      // No route: any caller may hear so (the 404 says nothing a token would protect).
      request.is404 ? 'read' : request.routeOptions.config.role,
    );
    if ('refuse' in decision) {
      if (decision.refuse !== 'TQ_ERR_API_FORBIDDEN') reply.header('www-authenticate', 'Bearer');
      return sendError(reply, decision.refuse, decision.message);
    }
    if ('caller' in decision) request.caller = decision.caller;
  };
}
