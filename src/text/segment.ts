// Sentence splitter and word tokenizer for raw text (PubTator abstracts, brat documents) that keep character
// offsets, so annotations given as offsets can be projected onto tokens and back.

export interface TextSpan {
  text: string;
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SentenceSplitOptions {
  /** Treat a line break as a sentence boundary (right for one-sentence-per-line text; wrong for hard-wrapped text). */
  newlineIsBoundary?: boolean;
  /** Extra abbreviations (without the final period) after which a period does not end a sentence. */
  abbreviations?: Iterable<string>;
}

// Lowercase forms; a period after these rarely ends a sentence in biomedical text.
const DEFAULT_ABBREVIATIONS = [
  'vs', 'cf', 'ca', 'approx', 'fig', 'figs', 'dr', 'mr', 'mrs', 'ms', 'prof', 'ref', 'refs', 'resp', 'vol', 'pp',
  'viz', 'spp', 'jr', 'inc', 'ltd', 'dept', 'eq', 'eqs',
];

const WORD_PIECE = /[\p{L}\p{N}\p{M}]+|\S/gu;
const CJK_IDEOGRAPH = /\p{Script=Han}/u;
const CJK_CLOSING = new Set(['"', "'", ')', ']', '}', '\u201d', '\u2019', '\u300d', '\u300f', '\uff09']);
const STRONG_CJK_TERMINATOR = new Set(['\u3002', '\uff01', '\uff1f']); // 。！？
const TERMINATOR = new Set(['.', '!', '?']);

/**
 * Words: maximal runs of letters/digits/marks, every other non-space character alone, every Han character
 * alone (Chinese NER is tagged per character). `boundaries` are extra character offsets where a token must
 * break (entity starts and ends), so that annotations always fall on token edges.
 */
export function tokenizeWords(text: string, start = 0, end = text.length, boundaries?: ReadonlySet<number>): TextSpan[] {
  const tokens: TextSpan[] = [];
  const region = text.slice(start, end);
  for (const match of region.matchAll(WORD_PIECE)) {
    const matchStart = start + match.index;
    const pieceText = match[0];
    let pieceStart = matchStart;
    let offset = 0;
    for (const char of pieceText) {
      const charStart = matchStart + offset;
      const isHan = CJK_IDEOGRAPH.test(char);
      const breakHere = charStart > pieceStart && (isHan || boundaries?.has(charStart) || CJK_IDEOGRAPH.test(text[charStart - 1] ?? ''));
      if (breakHere) {
        tokens.push({ text: text.slice(pieceStart, charStart), start: pieceStart, end: charStart });
        pieceStart = charStart;
      }
      offset += char.length;
    }
    tokens.push({ text: text.slice(pieceStart, matchStart + pieceText.length), start: pieceStart, end: matchStart + pieceText.length });
  }
  return tokens;
}

/** Sentence spans (whitespace-trimmed) covering all non-space text of [start, end). */
export function splitSentences(text: string, options: SentenceSplitOptions = {}, start = 0, end = text.length): TextSpan[] {
  const abbreviations = new Set([...DEFAULT_ABBREVIATIONS, ...[...(options.abbreviations ?? [])].map((a) => a.toLowerCase())]);
  const sentences: TextSpan[] = [];
  let sentenceStart = start;
  const emit = (sentenceEnd: number) => {
    let s = sentenceStart;
    let e = sentenceEnd;
    while (s < e && /\s/.test(text[s]!)) s++;
    while (e > s && /\s/.test(text[e - 1]!)) e--;
    if (e > s) sentences.push({ text: text.slice(s, e), start: s, end: e });
    sentenceStart = sentenceEnd;
  };
  let depth = 0;
  for (let i = start; i < end; i++) {
    const char = text[i]!;
    if (options.newlineIsBoundary && char === '\n') {
      emit(i + 1);
      continue;
    }
    if (STRONG_CJK_TERMINATOR.has(char)) {
      let after = i + 1;
      while (after < end && CJK_CLOSING.has(text[after]!)) after++;
      emit(after);
      i = after - 1;
      continue;
    }
    if (char === '(' || char === '[') depth++;
    else if ((char === ')' || char === ']') && depth > 0) depth--;
    if (!TERMINATOR.has(char)) continue;
    // Measured on BC5CDR/NCBI-disease: their splitter breaks at a terminator followed by whitespace and any
    // word (even lowercase: "mRNA levels..."), but not inside parentheses ("P=0. 048)") nor after
    // abbreviations with inner periods ("i.v.", "e.g.").
    const after = i + 1;
    if (after >= end || !/\s/.test(text[after]!) || depth > 0) continue;
    let next = after;
    while (next < end && /\s/.test(text[next]!)) next++;
    if (next >= end || !startsSentence(text, next, end)) continue;
    if (char === '.' && isAbbreviation(text, i, abbreviations)) continue;
    emit(after);
    depth = 0;
  }
  emit(end);
  return sentences;
}

// Lowercase words that still begin sentences in biomedical text (Greek letter names, name particles).
const LOWERCASE_SENTENCE_STARTERS = new Set(['alpha', 'beta', 'gamma', 'delta', 'kappa', 'von', 'van', 'de']);

/**
 * Whether the word at `index` can open a sentence: anything but a plain lowercase word, so "mRNA levels..."
 * and "p53 is..." start sentences while "...sequenced. the predicted..." (a typo) does not.
 */
function startsSentence(text: string, index: number, end: number): boolean {
  const char = text[index]!;
  if (!/\p{Ll}/u.test(char)) return /[\p{L}\p{N}([{"'\u201c\u2018]/u.test(char);
  const word = /^[\p{L}\p{N}]+/u.exec(text.slice(index, Math.min(end, index + 40)))?.[0] ?? char;
  return /[\p{Lu}\p{N}]/u.test(word) || LOWERCASE_SENTENCE_STARTERS.has(word);
}

/** The word before the period at `periodIndex` is a known abbreviation or a single capital initial ("J."). */
function isAbbreviation(text: string, periodIndex: number, abbreviations: ReadonlySet<string>): boolean {
  let wordStart = periodIndex;
  while (wordStart > 0 && /[\p{L}.]/u.test(text[wordStart - 1]!)) wordStart--;
  const word = text.slice(wordStart, periodIndex);
  return word.includes('.') || abbreviations.has(word.toLowerCase());
}
