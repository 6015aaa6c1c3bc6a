import { ApiException } from '@kubernetes/client-node';
import { KubeError } from './errors.ts';

/** Runs one API call; failures become KubeErrors that say what was attempted, with the cause. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException) {
      const body = parseStatusBody(err.body);
      throw new KubeError(`${what}: ${body?.message ?? `HTTP ${err.code}`}`, err.code, body?.reason, { cause: err });
    }
    throw new KubeError(`${what}: ${describe(err)}`, undefined, undefined, { cause: err });
  }
}

/** The Kubernetes Status an API error carries; a body that is not JSON becomes its message. */
export interface StatusBody {
  readonly kind?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly name?: string };
}

export function parseStatusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : undefined;
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch's own message is only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause.
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
}
