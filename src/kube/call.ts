import { ApiException } from '@kubernetes/client-node';
import { KubeError } from './errors.ts';

/** Runs one API call; failures become KubeErrors that say what was attempted, with the cause. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException) {
      const body = parseBody(err.body);
      throw new KubeError(`${what}: ${body?.message ?? `HTTP ${err.code}`}`, err.code, body?.reason, { cause: err });
    }
    throw new KubeError(`${what}: ${describe(err)}`, undefined, undefined, { cause: err });
  }
}

function parseBody(body: unknown): { message?: string; reason?: string } | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body };
    }
  }
  return typeof body === 'object' && body !== null ? (body as { message?: string; reason?: string }) : undefined;
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
