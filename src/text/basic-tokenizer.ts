// BERT's BasicTokenizer (clean text, split CJK, lowercase + strip accents, split punctuation), rewritten so
// every produced character remembers the span of the original text it came from (for offsets).

export interface BasicTokenizerOptions {
  lowercase?: boolean;
  /** Defaults to `lowercase`, as in Hugging Face's BertTokenizer (strip_accents=None follows do_lower_case). */
  stripAccents?: boolean;
  splitChineseChars?: boolean;
}

/** A word after basic tokenization: normalized code points, each with the original [start, end) it came from. */
export interface BasicWord {
  chars: string[];
  charSpans: [number, number][];
  start: number;
  end: number;
}

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const UNICODE_PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;

export function isBertWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || SPACE_SEPARATOR.test(char);
}

export function isBertControl(char: string): boolean {
  if (char === '\t' || char === '\n' || char === '\r') return false;
  return CONTROL.test(char);
}

/** BERT counts every non-alphanumeric ASCII character as punctuation, plus Unicode category P*. */
export function isBertPunctuation(char: string): boolean {
  const cp = char.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return UNICODE_PUNCTUATION.test(char);
}

/** The CJK Unified Ideograph blocks BERT isolates (not Hangul, not kana: those are space-separated languages). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export class BasicTokenizer {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly splitChineseChars: boolean;

  constructor(options: BasicTokenizerOptions = {}) {
    this.lowercase = options.lowercase ?? true;
    this.stripAccents = options.stripAccents ?? this.lowercase;
    this.splitChineseChars = options.splitChineseChars ?? true;
  }

  tokenize(text: string): BasicWord[] {
    const words: BasicWord[] = [];
    for (const piece of this.whitespaceTokens(text)) {
      let current: BasicWord | null = null;
      const flush = () => {
        if (current && current.chars.length > 0) words.push(current);
        current = null;
      };
      const lowered = this.lowercase ? lowercaseByChar(piece.chars) : piece.chars;
      for (let k = 0; k < piece.chars.length; k++) {
        const span = piece.spans[k]!;
        if (this.splitChineseChars && isChineseChar(piece.chars[k]!.codePointAt(0)!)) {
          flush();
          words.push({ chars: [piece.chars[k]!], charSpans: [span], start: span[0], end: span[1] });
          continue;
        }
        let normalized = lowered[k]!;
        if (this.stripAccents) normalized = normalized.normalize('NFD').replace(NONSPACING_MARK, '');
        for (const char of normalized) {
          if (isBertPunctuation(char)) {
            flush();
            words.push({ chars: [char], charSpans: [span], start: span[0], end: span[1] });
          } else {
            current ??= { chars: [], charSpans: [], start: span[0], end: span[1] };
            current.chars.push(char);
            current.charSpans.push(span);
            current.end = span[1];
          }
        }
      }
      flush();
    }
    return words;
  }

  /** clean_text + whitespace split: control characters vanish (joining their neighbours), whitespace separates. */
  private *whitespaceTokens(text: string): Generator<{ chars: string[]; spans: [number, number][] }> {
    let chars: string[] = [];
    let spans: [number, number][] = [];
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const char = text.slice(i, i + width);
      const start = i;
      i += width;
      if (cp === 0 || cp === 0xfffd || isBertControl(char)) continue;
      if (isBertWhitespace(char)) {
        if (chars.length > 0) yield { chars, spans };
        chars = [];
        spans = [];
        continue;
      }
      // CJK characters become their own whitespace tokens in BERT, which matters for the final-sigma context below.
      if (this.splitChineseChars && isChineseChar(cp)) {
        if (chars.length > 0) yield { chars, spans };
        yield { chars: [char], spans: [[start, i]] };
        chars = [];
        spans = [];
        continue;
      }
      chars.push(char);
      spans.push([start, i]);
    }
    if (chars.length > 0) yield { chars, spans };
  }
}

/**
 * Lowercase a whitespace token one character at a time (so offsets survive) but with the token as context:
 * Σ lowercases to final ς or medial σ depending on its neighbours, as Python's str.lower() does on the token.
 */
function lowercaseByChar(chars: string[]): string[] {
  const lowered = chars.map((char) => char.toLowerCase());
  if (!chars.includes('Σ')) return lowered;
  const whole = chars.join('').toLowerCase();
  let prefixLength = 0;
  for (let k = 0; k < chars.length; k++) {
    if (chars[k] === 'Σ') lowered[k] = whole[prefixLength]!;
    prefixLength += lowered[k]!.length;
  }
  return lowered;
}
