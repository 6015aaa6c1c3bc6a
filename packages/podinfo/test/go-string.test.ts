import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quoteGo, unquoteGo } from '../src/go-string.ts';

describe('quoteGo', () => {
  // Expected values are what Go's strconv.Quote returns.
  it.each([
    ['', '""'],
    ['plain text', '"plain text"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", `"it's"`],
    ['a\nb\tc\rd', '"a\\nb\\tc\\rd"'],
    ['\x07\b\f\v', '"\\a\\b\\f\\v"'],
    ['\x00\x01\x1b\x1f\x7f', '"\\x00\\x01\\x1b\\x1f\\x7f"'],
    ['\u0080\u009f', '"\\u0080\\u009f"'], // C1 controls are runes, not bytes
    ['\u00a0\u2028\u2029\u3000', '"\\u00a0\\u2028\\u2029\\u3000"'], // only the ASCII space is printable
    ['\u200b\u00ad\ufeff', '"\\u200b\\u00ad\\ufeff"'], // format characters
    ['\ufffe\ufdd0', '"\\ufffe\\ufdd0"'], // noncharacters
    ['\u{e0001}\u{10ffff}', '"\\U000e0001\\U0010ffff"'],
    ['\ue000', '"\\ue000"'], // private use
    ['héllo wörld €', '"héllo wörld €"'],
    ['日本語 😀 🇺🇦 é', '"日本語 😀 🇺🇦 é"'],
    ['\ufffd', '"\ufffd"'],
  ])('quotes %j as %s', (input, expected) => {
    expect(quoteGo(input)).toBe(expected);
  });

  it('quotes a lone surrogate as U+FFFD, as writing it as UTF-8 would', () => {
    expect(quoteGo('a\ud800b')).toBe('"a\ufffdb"');
  });
});

describe('unquoteGo', () => {
  it.each([
    ['""', ''],
    ['"a\\x41\\101\\u0041\\U00000041"', 'aAAAA'],
    ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\\'"', '\x07\b\f\n\r\t\v\\"\''],
    ['"\\xe2\\x82\\xac"', '€'], // \x escapes are bytes: together they spell one character
    ['"\\342\\202\\254"', '€'],
    ['"\\xE2\\x82\\xAC"', '€'], // Go accepts upper-case hex
    ['"\\xff"', '\ufffd'], // not UTF-8: the closest a JS string can get
    ['"\\xe2\\x82x"', '\ufffdx'],
    ['"\\U0001f600"', '😀'],
    ['"tab\tinside"', 'tab\tinside'], // a literal tab is fine in Go
    ['"😀 é"', '😀 é'],
  ])('unquotes %s', (input, expected) => {
    expect(unquoteGo(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['', 'expected a double-quoted string'],
    ['"', 'expected a double-quoted string'],
    ['abc', 'expected a double-quoted string'],
    ["'abc'", 'expected a double-quoted string'],
    ['"abc', 'expected a double-quoted string'],
    ['"a"b"', 'unescaped double quote'],
    ['"a\nb"', 'newline inside a quoted string'],
    ['"abc\\"', 'unterminated escape sequence'],
    ['"\\q"', 'unknown escape sequence \\q'],
    ['"\\x4"', '\\x needs 2 hexadecimal digits'],
    ['"\\xg0"', '\\x needs 2 hexadecimal digits'],
    ['"\\u12"', '\\u needs 4 hexadecimal digits'],
    ['"\\u12345"', ''], // fine: \u1234 then "5"
    ['"\\ud800"', '\\ud800 is not a valid Unicode code point'],
    ['"\\U00110000"', '\\U00110000 is not a valid Unicode code point'],
    ['"\\12"', 'octal escape needs 3 octal digits'],
    ['"\\400"', 'octal escape \\400 is larger than a byte'],
    ['"\\8"', 'unknown escape sequence \\8'],
  ])('rejects %j', (input, reason) => {
    const result = unquoteGo(input);
    if (reason === '') expect(result.ok).toBe(true);
    else expect(result).toMatchObject({ ok: false, reason });
  });

  it('points at the offending character', () => {
    expect(unquoteGo('"ok\\qok"')).toEqual({ ok: false, reason: 'unknown escape sequence \\q', index: 3 });
  });

  it('undoes quoteGo for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (value) => {
        expect(unquoteGo(quoteGo(value))).toEqual({ ok: true, value });
      }),
      { numRuns: 2000 },
    );
  });

  it('quoted output is one line of printable text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const quoted = quoteGo(value);
        expect(quoted).not.toMatch(/[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]/);
      }),
    );
  });
});
