/** Polls until probe returns a value; on timeout the error says what was awaited and shows the state. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  options: { timeoutMs?: number; intervalMs?: number; dump?: () => Promise<string> } = {},
): Promise<T> {
  const { timeoutMs = 120_000, intervalMs = 250 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false && v !== null) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const state = options.dump ? await options.dump().catch((e: unknown) => `(dump failed: ${String(e)})`) : '';
      const last = lastError ? `\nlast error: ${String(lastError)}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last}\n${state}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
