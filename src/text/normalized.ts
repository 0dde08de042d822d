// Text under normalization that remembers, for every character, the span of the original text it came from --
// the alignment rules of Hugging Face's NormalizedString, so offsets come out as theirs do. Spans are UTF-16
// [start, end) into the original string (what JavaScript's slice takes); a character is one code point.
//
// Hugging Face's rules, per produced character: one that replaces an original character takes that character's
// span; one that replaces several takes the first one's; an inserted one takes the span of the character before
// it. The normalizers of a tokenizer.json (NFC, NFKD, Lowercase, StripAccents, Replace, Precompiled, ...) are
// built from those rules in `normalizerFromJson`.

import { PrecompiledCharsmap } from './precompiled-charsmap.js';

export type Span = [number, number];

export class NormalizedText {
  constructor(
    public chars: string[],
    public spans: Span[],
  ) {}

  /** The whole of `text` (or the part from `offset`), one entry per code point. */
  static from(text: string, offset = 0): NormalizedText {
    const chars: string[] = [];
    const spans: Span[] = [];
    for (let i = 0; i < text.length; ) {
      const width = text.codePointAt(i)! > 0xffff ? 2 : 1;
      chars.push(text.slice(i, i + width));
      spans.push([offset + i, offset + i + width]);
      i += width;
    }
    return new NormalizedText(chars, spans);
  }

  get text(): string {
    return this.chars.join('');
  }

  get length(): number {
    return this.chars.length;
  }

  slice(start: number, end = this.chars.length): NormalizedText {
    return new NormalizedText(this.chars.slice(start, end), this.spans.slice(start, end));
  }

  /** Each character becomes zero or more: the first takes its span, the rest are inserted after it (HF's `transform`). */
  mapChars(map: (char: string) => string): void {
    const chars: string[] = [];
    const spans: Span[] = [];
    this.chars.forEach((char, k) => {
      for (const out of map(char)) {
        chars.push(out);
        spans.push(this.spans[k]!);
      }
    });
    this.chars = chars;
    this.spans = spans;
  }

  /** Replace the characters [start, end) with `replacement`, every new character taking the given span. */
  splice(start: number, end: number, replacement: string[], span: Span): void {
    this.chars.splice(start, end - start, ...replacement);
    this.spans.splice(start, end - start, ...replacement.map((): Span => [span[0], span[1]]));
  }

  /** Prepend text; the new characters take the first character's span (HF's `prepend`). */
  prepend(text: string): void {
    if (this.chars.length === 0) return;
    const span = this.spans[0]!;
    const added = [...text];
    this.chars.unshift(...added);
    this.spans.unshift(...added.map((): Span => [span[0], span[1]]));
  }

  /** Original span of characters [start, end): from the first one's start to the last one's end. */
  spanOf(start: number, end: number): Span {
    if (end <= start) {
      const at = this.spans[start] ?? this.spans[start - 1];
      const position = at ? (this.spans[start] ? at[0] : at[1]) : 0;
      return [position, position];
    }
    return [this.spans[start]![0], this.spans[end - 1]![1]];
  }
}

export type Normalizer = (text: NormalizedText) => void;

/** Whitespace as Rust's char::is_whitespace (Unicode White_Space), which HF's normalizers and splitters use. */
export const WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const COMBINING_MARK = /^\p{M}$/u;

/** Canonical/compatibility (de)composition, one starter and its combining marks at a time (so spans survive). */
function unicodeForm(form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): Normalizer {
  const composes = form === 'NFC' || form === 'NFKC';
  return (text) => {
    if (text.text.normalize(form) === text.text) return;
    const chars: string[] = [];
    const spans: Span[] = [];
    for (let k = 0; k < text.length; ) {
      let end = k + 1;
      while (end < text.length && COMBINING_MARK.test(text.chars[end]!)) end++;
      const group = text.chars.slice(k, end);
      if (composes) {
        // A composed character takes the span of the first one it replaces; decomposed pieces take theirs.
        const out = [...group.join('').normalize(form)];
        out.forEach((char, i) => {
          chars.push(char);
          spans.push(text.spans[Math.min(k + i, end - 1)]!);
        });
      } else {
        group.forEach((char, i) => {
          for (const out of char.normalize(form)) {
            chars.push(out);
            spans.push(text.spans[k + i]!);
          }
        });
      }
      k = end;
    }
    text.chars = chars;
    text.spans = spans;
  };
}

/** Replace every match of a literal string or regex by `content`; the new characters take the span of the match's last character. */
function replace(pattern: string | RegExp, content: string): Normalizer {
  return (text) => {
    const source = text.text;
    const regex = typeof pattern === 'string' ? new RegExp(escapeRegex(pattern), 'gu') : pattern;
    regex.lastIndex = 0;
    const matches = [...source.matchAll(regex)].filter((m) => m[0].length > 0);
    if (matches.length === 0) return;
    // UTF-16 index -> character index.
    const charAt: number[] = [];
    text.chars.forEach((char, k) => {
      for (let u = 0; u < char.length; u++) charAt.push(k);
    });
    charAt.push(text.length);
    const replacement = [...content];
    for (const match of matches.reverse()) {
      const start = charAt[match.index!]!;
      const end = charAt[match.index! + match[0].length]!;
      text.splice(start, end, replacement, text.spans[end - 1]!);
    }
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The normalizer a tokenizer.json describes (null: none). Throws for a kind medner does not implement. */
export function normalizerFromJson(json: unknown, where: string): Normalizer | null {
  if (json === null || json === undefined) return null;
  const config = json as { type?: string; [key: string]: unknown };
  switch (config.type) {
    case 'Sequence': {
      const parts = ((config.normalizers as unknown[]) ?? []).map((n) => normalizerFromJson(n, where)).filter((n): n is Normalizer => n !== null);
      return (text) => parts.forEach((normalize) => normalize(text));
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return unicodeForm(config.type);
    case 'Lowercase':
      return (text) => text.mapChars((char) => char.toLowerCase());
    case 'StripAccents':
      return (text) => {
        const keep = text.chars.map((char) => !COMBINING_MARK.test(char));
        text.chars = text.chars.filter((_, k) => keep[k]);
        text.spans = text.spans.filter((_, k) => keep[k]);
      };
    case 'Replace': {
      const pattern = config.pattern as { String?: string; Regex?: string };
      const content = String(config.content ?? '');
      if (pattern.String !== undefined) return replace(pattern.String, content);
      if (pattern.Regex !== undefined) return replace(new RegExp(pattern.Regex, 'gu'), content);
      throw new Error(`${where}: Replace normalizer without a pattern`);
    }
    case 'Prepend': {
      const prefix = String(config.prepend ?? '');
      return (text) => text.prepend(prefix);
    }
    case 'Strip': {
      const left = config.strip_left !== false;
      const right = config.strip_right !== false;
      return (text) => {
        let start = 0;
        let end = text.length;
        while (left && start < end && WHITESPACE.test(text.chars[start]!)) start++;
        while (right && end > start && WHITESPACE.test(text.chars[end - 1]!)) end--;
        text.chars = text.chars.slice(start, end);
        text.spans = text.spans.slice(start, end);
      };
    }
    case 'Precompiled': {
      const charsmap = config.precompiled_charsmap;
      if (typeof charsmap !== 'string' || charsmap === '') return null;
      return precompiled(PrecompiledCharsmap.fromBase64(charsmap));
    }
    default:
      throw new Error(`${where}: normalizer ${JSON.stringify(config.type)} is not supported (medner implements Sequence, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Replace, Prepend, Strip, Precompiled)`);
  }
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * SentencePiece's compiled normalization rules (nmt_nfkc), applied as HF's Precompiled normalizer does: a whole
 * grapheme cluster if it is short and has a rule, else character by character. A rule that gives more characters
 * than it replaces inserts the extra ones; one that gives fewer drops the replaced characters beyond the first.
 */
export function precompiled(charsmap: PrecompiledCharsmap): Normalizer {
  return (text) => {
    const source = text.text;
    const chars: string[] = [];
    const spans: Span[] = [];
    let k = 0;
    const emit = (old: string[], first: number, normalized: string) => {
      const out = [...normalized];
      out.forEach((char, i) => {
        chars.push(char);
        // Replacing: character i takes old character i's span; inserted ones (beyond old.length) the last old one's.
        spans.push(text.spans[first + Math.min(i, old.length - 1)]!);
      });
    };
    // Printable ASCII is one grapheme per character; only other text needs the (slow) segmenter.
    const segments = /^[\x20-\x7e]*$/.test(source) ? text.chars : Array.from(graphemes.segment(source), (s) => s.segment);
    for (const segment of segments) {
      const group = [...segment];
      if (utf8Length(segment) < 6) {
        const normalized = charsmap.transform(segment);
        if (normalized !== null) {
          emit(group, k, normalized);
          k += group.length;
          continue;
        }
      }
      for (const char of group) {
        const normalized = charsmap.transform(char);
        if (normalized !== null) emit([char], k, normalized);
        else {
          chars.push(char);
          spans.push(text.spans[k]!);
        }
        k++;
      }
    }
    text.chars = chars;
    text.spans = spans;
  };
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
