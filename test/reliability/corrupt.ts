// Shared by the reader property tests: random text pieces (astral characters, CJK, punctuation, no-break
// spaces) and random corruptions of a valid file, each applied to one line.

import fc from 'fast-check';

/** One character: ASCII, Latin, CJK, an astral emoji or mathematical letter, punctuation. */
export const char = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('é', 'ß', '糖', '尿', '病', 'Ω', '\u00a0', '’', '😀', '𝔸', '🧬', '𠀀'),
  fc.integer({ min: 0x1f300, max: 0x1faff }).map((c) => String.fromCodePoint(c)),
);

/** A word: 1-6 characters, no whitespace. */
export const word = fc.array(char, { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));

export const entityType = fc.constantFrom('Disease', 'Chemical', 'Gene_or_protein', 'Drug', 'Test-Value', 'Körper', '症状');

export type Corruption =
  | { kind: 'deleteLine'; line: number }
  | { kind: 'duplicateLine'; line: number }
  | { kind: 'deleteField'; line: number; field: number }
  | { kind: 'duplicateField'; line: number; field: number }
  | { kind: 'replaceNumber'; line: number; which: number; value: string }
  | { kind: 'swapNumbers'; line: number }
  | { kind: 'truncate'; line: number; at: number }
  | { kind: 'insertBytes'; line: number; at: number; bytes: readonly number[] };

/** A corruption of line `line` (0-based, modulo the line count when applied); positions are fractions. */
export const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('deleteLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('deleteField' as const), line: fc.nat(), field: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateField' as const), line: fc.nat(), field: fc.nat() }),
  fc.record({ kind: fc.constant('replaceNumber' as const), line: fc.nat(), which: fc.nat(), value: fc.constantFrom('', 'x', '-1', '1.5', '1e3', 'NaN', '99999999', '٣', ' 4') }),
  fc.record({ kind: fc.constant('swapNumbers' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), line: fc.nat(), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insertBytes' as const),
    line: fc.nat(),
    at: fc.nat(),
    // Invalid UTF-8 (a lone continuation byte, a truncated sequence, an encoded surrogate, 0xff) or a NUL.
    bytes: fc.constantFrom<readonly number[]>([0x80], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xff], [0x00]),
  }),
);

export interface Corrupted {
  bytes: Buffer;
  /** 1-based line that was changed (for deleteLine, the line that moved up into its place). */
  lineNumber: number;
  /** Byte offset of inserted bytes, when they are invalid UTF-8. */
  badByteOffset: number | null;
  /** The original line, before the change. */
  original: string;
}

/**
 * Apply a corruption to the lines of `text` (split on LF; a CR stays with its line). `separator` splits a
 * line into fields for the field corruptions.
 */
export function corrupt(text: string, c: Corruption, separator: RegExp | string): Corrupted {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const index = c.line % lines.length;
  const original = lines[index]!;
  let line = original;
  let inserted: { at: number; bytes: readonly number[] } | null = null;
  const numbers = [...line.matchAll(/\d+/g)];
  switch (c.kind) {
    case 'deleteLine':
      lines.splice(index, 1);
      break;
    case 'duplicateLine':
      lines.splice(index, 0, line);
      break;
    case 'deleteField':
    case 'duplicateField': {
      const sep = typeof separator === 'string' ? separator : (line.match(separator)?.[0] ?? ' ');
      const fields = line.split(separator);
      const f = c.field % fields.length;
      if (c.kind === 'deleteField') fields.splice(f, 1);
      else fields.splice(f, 0, fields[f]!);
      line = fields.join(sep);
      break;
    }
    case 'replaceNumber': {
      const m = numbers[c.which % Math.max(1, numbers.length)];
      if (m) line = line.slice(0, m.index) + c.value + line.slice(m.index! + m[0].length);
      break;
    }
    case 'swapNumbers': {
      const [a, b] = numbers;
      if (a && b) line = line.slice(0, a.index) + b[0] + line.slice(a.index! + a[0].length, b.index) + a[0] + line.slice(b.index! + b[0].length);
      break;
    }
    case 'truncate': {
      const points = [...line];
      line = points.slice(0, c.at % (points.length + 1)).join('');
      break;
    }
    case 'insertBytes': {
      const points = [...line];
      inserted = { at: Buffer.byteLength(points.slice(0, c.at % (points.length + 1)).join('')), bytes: c.bytes };
      break;
    }
  }
  if (c.kind !== 'deleteLine' && c.kind !== 'duplicateLine') lines[index] = line;
  const before = Buffer.from(lines.slice(0, index).map((l) => `${l}\n`).join(''));
  let bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  let badByteOffset: number | null = null;
  if (inserted) {
    const at = before.length + inserted.at;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(inserted.bytes), bytes.subarray(at)]);
    if (inserted.bytes[0] !== 0) badByteOffset = at;
  }
  return { bytes, lineNumber: index + 1, badByteOffset, original };
}

/** The line number an error message names (`file:LINE: ...`), or null. */
export function namedLine(message: string, file: string): number | null {
  const match = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): `).exec(message);
  return match ? Number(match[1]) : null;
}
