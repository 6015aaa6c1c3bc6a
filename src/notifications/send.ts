import type { Delivery } from './render.ts';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly status: number | undefined;
  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

export type Send = (d: Delivery) => Promise<void>;

/** One HTTP request, bounded in time; any answer but 2xx is a failure (retried by the notifier). */
export function httpSender(timeoutMs = 10_000): Send {
  return async (d) => {
    const host = new URL(d.url).host;
    let res: Response;
    try {
      res = await fetch(d.url, { method: d.method, headers: d.headers, body: d.method === 'GET' || d.method === 'HEAD' ? null : d.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new DeliveryError(`${d.method} ${host}: ${(err as Error).message}`, undefined, { cause: err });
    }
    // Read the body so the connection is reused; its text says why a receiver refused.
    const text = await res.text().catch(() => '');
    if (res.status < 200 || res.status > 299) throw new DeliveryError(`${d.method} ${host}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(), res.status);
  };
}
