// Go's strconv.Quote and strconv.Unquote for double-quoted strings. The kubelet writes each
// Downward API value with fmt's %q verb, which is strconv.Quote.

/** The result of {@link unquoteGo}: the decoded string, or why the input is not a Go string literal. */
export type UnquoteResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: string; /** 0-based index into the input */ readonly index: number };

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Every
// other space (U+00A0, U+2028, ...) is escaped. The tables are the JS engine's Unicode version; a
// code point assigned after Go's version may be quoted differently, which parsing never depends on.
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const SHORT_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x0b, '\\v'],
]);

const UNESCAPES: ReadonlyMap<string, string> = new Map([
  ['a', '\x07'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['v', '\v'],
  ['\\', '\\'],
  ['"', '"'],
  // Go rejects \' inside a double-quoted literal; accepting it costs nothing and Go never writes it.
  ["'", "'"],
]);

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function isGoPrintable(char: string, codePoint: number): boolean {
  if (codePoint < 0x80) return codePoint >= 0x20 && codePoint !== 0x7f;
  return GO_PRINTABLE.test(char);
}

function escapeNonPrintable(codePoint: number): string {
  const short = SHORT_ESCAPES.get(codePoint);
  if (short !== undefined) return short;
  if (codePoint < 0x20 || codePoint === 0x7f) return `\\x${hex(codePoint, 2)}`;
  if (codePoint < 0x10000) return `\\u${hex(codePoint, 4)}`;
  return `\\U${hex(codePoint, 8)}`;
}

/**
 * Quotes like Go's strconv.Quote. A lone UTF-16 surrogate cannot reach Go (it has no UTF-8
 * encoding), so it is quoted as U+FFFD, which is what writing the string as UTF-8 would produce.
 */
export function quoteGo(value: string): string {
  let out = '"';
  for (const char of value.toWellFormed()) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (isGoPrintable(char, codePoint)) out += char;
    else out += escapeNonPrintable(codePoint);
  }
  return `${out}"`;
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const OCTAL_DIGITS = /^[0-7]{3}$/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Undoes {@link quoteGo} and everything else Go's strconv.Unquote accepts in a double-quoted
 * literal: \a \b \f \n \r \t \v \\ \" (and \'), \xHH, \ooo, \uHHHH and \UHHHHHHHH.
 *
 * \x and octal escapes are single bytes, as in Go, so a run of them can spell a multi-byte UTF-8
 * character; bytes that are not valid UTF-8 decode to U+FFFD, the closest a JS string can get.
 */
export function unquoteGo(quoted: string): UnquoteResult {
  const fail = (reason: string, index: number): UnquoteResult => ({ ok: false, reason, index });
  if (quoted.length < 2 || quoted[0] !== '"' || quoted[quoted.length - 1] !== '"') {
    return fail('expected a double-quoted string', 0);
  }
  const end = quoted.length - 1;
  let out = '';
  let bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) out += utf8.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  let i = 1;
  while (i < end) {
    const char = quoted[i] ?? '';
    if (char === '"') return fail('unescaped double quote', i);
    if (char === '\n') return fail('newline inside a quoted string', i);
    if (char !== '\\') {
      flushBytes();
      out += char;
      i += 1;
      continue;
    }
    if (i + 1 >= end) return fail('unterminated escape sequence', i);
    const kind = quoted[i + 1] ?? '';
    const simple = UNESCAPES.get(kind);
    if (simple !== undefined) {
      flushBytes();
      out += simple;
      i += 2;
      continue;
    }
    if (kind === 'x' || kind === 'u' || kind === 'U') {
      const width = kind === 'x' ? 2 : kind === 'u' ? 4 : 8;
      const digits = quoted.slice(i + 2, i + 2 + width);
      if (i + 2 + width > end || !HEX_DIGITS.test(digits)) {
        return fail(`\\${kind} needs ${width} hexadecimal digits`, i);
      }
      const value = Number.parseInt(digits, 16);
      if (kind === 'x') {
        bytes.push(value);
      } else {
        // Go's utf8.ValidRune: surrogates and values past U+10FFFF are not characters.
        if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
          return fail(`\\${kind}${digits} is not a valid Unicode code point`, i);
        }
        flushBytes();
        out += String.fromCodePoint(value);
      }
      i += 2 + width;
      continue;
    }
    if (kind >= '0' && kind <= '7') {
      const digits = quoted.slice(i + 1, i + 4);
      if (i + 4 > end || !OCTAL_DIGITS.test(digits)) return fail('octal escape needs 3 octal digits', i);
      const value = Number.parseInt(digits, 8);
      if (value > 0xff) return fail(`octal escape \\${digits} is larger than a byte`, i);
      bytes.push(value);
      i += 4;
      continue;
    }
    return fail(`unknown escape sequence \\${kind}`, i);
  }
  flushBytes();
  return { ok: true, value: out };
}
