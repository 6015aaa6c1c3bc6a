// The text of a Downward API `metadata.annotations` / `metadata.labels` file. The kubelet writes it
// with pkg/fieldpath.FormatMap: one `key="value"` per line, keys sorted, values quoted with Go's %q,
// lines joined by "\n" with no trailing newline.
import { quoteGo, unquoteGo } from './go-string.ts';

/** A line that is not `key="Go-quoted value"`. Returned as a value by {@link parseDownwardApi}, never thrown. */
export class DownwardApiParseError extends Error {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column of the offending character. */
  readonly column: number;

  constructor(reason: string, line: number, column: number) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'DownwardApiParseError';
    this.line = line;
    this.column = column;
  }
}

export type DownwardApiParseResult =
  | { readonly ok: true; readonly values: Map<string, string> }
  | { readonly ok: false; readonly error: DownwardApiParseError };

/**
 * Parses a Downward API map file. Every malformed line is an error value, so a caller keeps its
 * last good state instead of acting on half-understood input. Empty lines (and so a trailing
 * newline) are skipped: the kubelet never writes them, but hand-written development files do.
 */
export function parseDownwardApi(text: string): DownwardApiParseResult {
  const values = new Map<string, string>();
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const fail = (reason: string, offset: number): DownwardApiParseResult => ({
      ok: false,
      error: new DownwardApiParseError(reason, index + 1, offset + 1),
    });
    const equals = line.indexOf('=');
    if (equals === -1) return fail('expected key="value"', 0);
    if (equals === 0) return fail('empty key', 0);
    const key = line.slice(0, equals);
    const value = unquoteGo(line.slice(equals + 1));
    if (!value.ok) return fail(value.reason, equals + 1 + value.index);
    if (values.has(key)) return fail(`duplicate key ${JSON.stringify(key)}`, 0);
    values.set(key, value.value);
  }
  return { ok: true, values };
}

/** Go sorts keys as UTF-8 bytes, which is code point order, not JS's UTF-16 code unit order. */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Writes a map exactly as the kubelet does. Used to build fixtures and round-trip tests.
 * Throws on a key that no parser could read back (empty, or containing "=" or a newline);
 * Kubernetes rejects such keys, so meeting one is a programming error.
 */
export function formatDownwardApi(values: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
  return entries
    .map(([key, value]): [string, string] => {
      if (key === '' || key.includes('=') || key.includes('\n')) {
        throw new TypeError(`cannot write key ${JSON.stringify(key)} in Downward API format`);
      }
      return [key, value];
    })
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([key, value]) => `${key}=${quoteGo(value)}`)
    .join('\n');
}
