// Label schemes BIO, BIOES and IOB1: parsing tags, converting between schemes through token spans,
// validating sequences and repairing invalid ones (an I- with no B-, an unterminated BIOES entity).

/**
 * The tagging schemes, by the one set of names every command, option, config field and checkpoint
 * uses: BIO (also called IOB2), BIOES (IOBES; BILOU's L and U read as E and S) and IOB1 (B- only
 * between adjacent entities of one type; read and written by the library, never predicted).
 */
export type LabelScheme = 'BIO' | 'BIOES' | 'IOB1';
/** The schemes a model predicts. */
export type TaggingScheme = 'BIO' | 'BIOES';

export interface ParsedTag {
  /** B, I, E or S; O for outside. BILOU's L and U are read as E and S. */
  prefix: 'B' | 'I' | 'E' | 'S' | 'O';
  type: string;
}

/** A typed run of tokens, [start, end) token indices. */
export interface TokenSpan {
  type: string;
  start: number;
  end: number;
}

const TAG_PATTERN = /^([BIESLU])-(.+)$/;

export function isValidTag(tag: string): boolean {
  return tag === 'O' || TAG_PATTERN.test(tag);
}

export function parseTag(tag: string): ParsedTag {
  if (tag === 'O') return { prefix: 'O', type: '' };
  const match = TAG_PATTERN.exec(tag);
  if (!match) throw new Error(`malformed tag '${tag}' (expected O or B-/I-/E-/S-TYPE)`);
  const letter = match[1]!;
  const prefix = letter === 'L' ? 'E' : letter === 'U' ? 'S' : (letter as ParsedTag['prefix']);
  return { prefix, type: match[2]! };
}

/** A scheme name as a user may type it (command line, config file, older checkpoints): any case; iob2 is BIO, iobes and bilou are BIOES. */
const SCHEME_NAMES: Record<string, LabelScheme> = { bio: 'BIO', iob2: 'BIO', bioes: 'BIOES', iobes: 'BIOES', bilou: 'BIOES', iob1: 'IOB1' };

/**
 * The scheme a user's spelling names, for the command line and config files only: everything past
 * them speaks BIO, BIOES (and IOB1). `allowed` narrows it (a model predicts BIO or BIOES).
 */
export function parseScheme<S extends LabelScheme = LabelScheme>(name: string, allowed: readonly S[] = ['BIO', 'BIOES', 'IOB1'] as S[]): S {
  const scheme = SCHEME_NAMES[String(name).toLowerCase()];
  if (!scheme || !(allowed as readonly string[]).includes(scheme)) {
    throw new Error(`unknown label scheme '${name}' (expected ${allowed.join(' or ')}${allowed.includes('BIO' as S) ? '; iob2 is BIO' : ''}${allowed.includes('BIOES' as S) ? ', iobes is BIOES' : ''})`);
  }
  return scheme as S;
}

/**
 * Token spans of a tag sequence, read leniently: an I- (or E-) that does not continue an entity of its type
 * starts one, so nothing is lost from invalid sequences. In IOB1, B- only separates adjacent same-type entities.
 */
export function tagsToSpans(tags: readonly string[], scheme: LabelScheme = 'BIO'): TokenSpan[] {
  const spans: TokenSpan[] = [];
  let open: TokenSpan | null = null;
  const close = (end: number) => {
    if (open) {
      open.end = end;
      spans.push(open);
      open = null;
    }
  };
  tags.forEach((tag, i) => {
    const { prefix, type } = parseTag(tag);
    if (prefix === 'O') return close(i);
    const continues = open !== null && open.type === type;
    const startsNew = !continues || prefix === 'B' || prefix === 'S';
    if (startsNew) {
      close(i);
      open = { type, start: i, end: i + 1 };
    }
    if (scheme === 'BIOES' && (prefix === 'E' || prefix === 'S')) close(i + 1);
  });
  close(tags.length);
  return spans;
}

/** Tags for non-overlapping spans sorted by start. */
export function spansToTags(spans: readonly TokenSpan[], length: number, scheme: LabelScheme = 'BIO'): string[] {
  const tags = new Array<string>(length).fill('O');
  let previous: TokenSpan | null = null;
  for (const span of spans) {
    if (span.start < 0 || span.end > length || span.start >= span.end) throw new Error(`span [${span.start}, ${span.end}) outside 0..${length}`);
    for (let i = span.start; i < span.end; i++) tags[i] = `I-${span.type}`;
    if (scheme === 'BIO') tags[span.start] = `B-${span.type}`;
    else if (scheme === 'IOB1') {
      // IOB1 uses B- only where an entity directly follows one of the same type.
      if (previous && previous.end === span.start && previous.type === span.type) tags[span.start] = `B-${span.type}`;
    } else if (span.end - span.start === 1) tags[span.start] = `S-${span.type}`;
    else {
      tags[span.start] = `B-${span.type}`;
      tags[span.end - 1] = `E-${span.type}`;
    }
    previous = span;
  }
  return tags;
}

export function convertScheme(tags: readonly string[], from: LabelScheme, to: LabelScheme): string[] {
  return spansToTags(tagsToSpans(tags, from), tags.length, to);
}

export interface SchemeViolation {
  index: number;
  tag: string;
  reason: string;
}

/** Every position where the sequence breaks the scheme's rules. */
export function validateTags(tags: readonly string[], scheme: LabelScheme): SchemeViolation[] {
  const violations: SchemeViolation[] = [];
  let previous: ParsedTag = { prefix: 'O', type: '' };
  tags.forEach((tag, index) => {
    if (!isValidTag(tag)) {
      violations.push({ index, tag, reason: 'malformed tag' });
      previous = { prefix: 'O', type: '' };
      return;
    }
    const current = parseTag(tag);
    const insideSameType = previous.type === current.type && (previous.prefix === 'B' || previous.prefix === 'I');
    if (scheme !== 'BIOES' && (current.prefix === 'E' || current.prefix === 'S')) {
      violations.push({ index, tag, reason: `${current.prefix}- is not part of ${scheme}` });
    } else if (scheme === 'BIO' && current.prefix === 'I' && !insideSameType) {
      violations.push({ index, tag, reason: `I-${current.type} does not follow B-${current.type} or I-${current.type}` });
    } else if (scheme === 'IOB1' && current.prefix === 'B' && !(previous.type === current.type && previous.prefix !== 'O')) {
      violations.push({ index, tag, reason: `B-${current.type} in IOB1 must follow an entity of the same type` });
    } else if (scheme === 'BIOES') {
      if ((current.prefix === 'I' || current.prefix === 'E') && !insideSameType) {
        violations.push({ index, tag, reason: `${current.prefix}-${current.type} does not continue a B-/I-${current.type}` });
      }
      if ((previous.prefix === 'B' || previous.prefix === 'I') && !((current.prefix === 'I' || current.prefix === 'E') && current.type === previous.type)) {
        violations.push({ index: index - 1, tag: tags[index - 1]!, reason: `${previous.prefix}-${previous.type} is not closed by E-${previous.type}` });
      }
    }
    previous = current;
  });
  if (scheme === 'BIOES' && (previous.prefix === 'B' || previous.prefix === 'I')) {
    violations.push({ index: tags.length - 1, tag: tags[tags.length - 1]!, reason: `${previous.prefix}-${previous.type} is not closed by E-${previous.type}` });
  }
  return violations;
}

/** A valid sequence in `scheme` with the same entities as the lenient reading (an orphan I-X starts an X). */
export function repairTags(tags: readonly string[], scheme: LabelScheme): string[] {
  const readAs: LabelScheme = tags.some((tag) => /^[ESLU]-/.test(tag)) ? 'BIOES' : scheme === 'BIOES' ? 'BIO' : scheme;
  return spansToTags(tagsToSpans(tags, readAs), tags.length, scheme);
}
