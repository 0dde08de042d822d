// Entity extraction exactly as seqeval does it: the default (lenient, conlleval-like) get_entities, and the
// strict mode that accepts only entities well formed in BIO (IOB2) or BIOES (IOBES). Ported rule by rule from seqeval 1.2.2.

export interface ScoredEntity {
  type: string;
  /** Sentence index. */
  sentence: number;
  /** Token indices within the sentence, end exclusive. */
  start: number;
  end: number;
}

export type StrictScheme = 'BIO' | 'BIOES';

/** seqeval splits 'B-PER' into tag 'B' and type 'PER'; 'O' has type '_' (needed for its end/start rules). */
function splitDefault(chunk: string): { tag: string; type: string } {
  const rest = chunk.slice(1);
  const dash = rest.indexOf('-');
  return { tag: chunk[0] ?? '', type: (dash < 0 ? rest : rest.slice(dash + 1)) || '_' };
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** seqeval's default get_entities on one sentence: an I- after O starts a chunk, a type change ends one. */
export function entitiesDefault(tags: readonly string[], sentence = 0): ScoredEntity[] {
  const entities: ScoredEntity[] = [];
  let prevTag = 'O';
  let prevType = '_';
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const { tag, type } = splitDefault(i < tags.length ? tags[i]! : 'O');
    if (endOfChunk(prevTag, tag, prevType, type)) entities.push({ type: prevType, sentence, start: begin, end: i });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return entities;
}

type Prefix = 'B' | 'I' | 'E' | 'S' | 'O';
interface StrictToken {
  prefix: Prefix;
  type: string;
}
type Pattern = [Prefix[] | 'any', Prefix[] | 'any', 'any' | 'same' | 'diff'];

const STRICT_RULES: Record<StrictScheme, { allowed: Prefix[]; start: Pattern[]; inside: Pattern[]; end: Pattern[] }> = {
  BIO: {
    allowed: ['B', 'I', 'O'],
    start: [['any', ['B'], 'any']],
    inside: [[['B'], ['I'], 'same'], [['I'], ['I'], 'same']],
    end: [
      [['I'], ['O'], 'any'], [['I'], ['I'], 'diff'], [['I'], ['B'], 'any'],
      [['B'], ['O'], 'any'], [['B'], ['I'], 'diff'], [['B'], ['B'], 'any'],
    ],
  },
  BIOES: {
    allowed: ['B', 'I', 'E', 'S', 'O'],
    start: [['any', ['B'], 'any'], ['any', ['S'], 'any']],
    inside: [[['B'], ['I'], 'same'], [['B'], ['E'], 'same'], [['I'], ['I'], 'same'], [['I'], ['E'], 'same']],
    end: [[['S'], 'any', 'any'], [['E'], 'any', 'any']],
  },
};

function matches(patterns: Pattern[], prev: StrictToken, current: StrictToken): boolean {
  return patterns.some(([prevPrefixes, currentPrefixes, typeCondition]) =>
    (prevPrefixes === 'any' || prevPrefixes.includes(prev.prefix)) &&
    (currentPrefixes === 'any' || currentPrefixes.includes(current.prefix)) &&
    (typeCondition === 'any' || (typeCondition === 'same') === (prev.type === current.type)));
}

/** seqeval's strict mode (mode='strict', scheme=IOB2 or IOBES, here BIO or BIOES): ill-formed chunks are not entities at all. */
export function entitiesStrict(tags: readonly string[], scheme: StrictScheme, sentence = 0): ScoredEntity[] {
  const rules = STRICT_RULES[scheme];
  const outside: StrictToken = { prefix: 'O', type: '_' };
  const tokens: StrictToken[] = tags.map((tag) => {
    const prefix = tag[0] as Prefix;
    if (!rules.allowed.includes(prefix)) throw new Error(`strict ${scheme.toUpperCase()}: invalid tag '${tag}' at position in sentence ${sentence}`);
    // seqeval: tag = token[1:].strip('-') or '_'
    return { prefix, type: tag.slice(1).replace(/^-+|-+$/g, '') || '_' };
  });
  const extended = [...tokens, outside];
  const entities: ScoredEntity[] = [];
  let prev = outside;
  let i = 0;
  while (i < extended.length) {
    const token = extended[i]!;
    if (matches(rules.start, prev, token)) {
      let end = extended.length;
      let inside = token;
      for (let k = i + 1; k < extended.length; k++) {
        if (matches(rules.inside, inside, extended[k]!)) inside = extended[k]!;
        else {
          end = k;
          break;
        }
      }
      if (end === extended.length) end = tokens.length - 1; // seqeval's _forward fallback, kept for parity
      if (matches(rules.end, extended[end - 1]!, extended[end]!)) entities.push({ type: token.type, sentence, start: i, end });
      i = end;
    } else i++;
    prev = extended[i - 1]!;
  }
  return entities;
}

export interface EntityOptions {
  /** 'default' reproduces seqeval's default; 'strict' needs a scheme. */
  mode?: 'default' | 'strict';
  scheme?: StrictScheme;
}

export function extractEntities(sentences: readonly (readonly string[])[], options: EntityOptions = {}): ScoredEntity[] {
  if (options.mode === 'strict') {
    const scheme = options.scheme ?? 'BIO';
    return sentences.flatMap((tags, s) => entitiesStrict(tags, scheme, s));
  }
  return sentences.flatMap((tags, s) => entitiesDefault(tags, s));
}
