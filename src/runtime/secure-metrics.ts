import type { IncomingMessage } from 'node:http';
import { text, type Response } from './http-server.ts';

/** An authenticated caller, as TokenReview returns it. */
export interface Caller {
  readonly username: string;
  readonly uid?: string | undefined;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface SecureMetricsAuth {
  /** TokenReview: the caller a bearer token stands for, or undefined. */
  readonly authenticate: (token: string) => Promise<Caller | undefined>;
  /** SubjectAccessReview on a non-resource URL. */
  readonly authorize: (caller: Caller, verb: string, path: string) => Promise<boolean>;
}

/**
 * What controller-runtime's `filters.WithAuthenticationAndAuthorization` does for `/metrics`: a
 * bearer token TokenReview accepts (else 401), whose user a SubjectAccessReview allows to `get` the
 * path (else 403). Returns the refusal, or undefined to serve the request. Written here because the
 * check is two API calls the gateway makes; no Node library does it for Kubernetes.
 */
export function metricsGuard(auth: SecureMetricsAuth): (req: IncomingMessage) => Promise<Response | undefined> {
  return async (req) => {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) return text(401, 'Unauthorized\n');
    const caller = await auth.authenticate(token);
    if (!caller) return text(401, 'Unauthorized\n');
    const path = (req.url ?? '/').split('?')[0]!;
    const verb = (req.method ?? 'GET').toLowerCase();
    if (!(await auth.authorize(caller, verb, path))) return text(403, `Forbidden: user ${caller.username} may not ${verb} ${path}\n`);
    return undefined;
  };
}
