// Hard transition constraints from a label scheme: which tag may start a sequence,
// follow another tag, or end a sequence (no O -> I-X in BIO). The CRF adds a large
// negative score to every forbidden move, so no decoded path contains one.
// C = tags.

import { parseTag, type ParsedTag } from '../data/schemes.js';

/** 1 = allowed, 0 = forbidden. transitions[i][j]: tag i followed by tag j. */
export interface AllowedTransitions {
  start: number[]; // [C]
  transitions: number[][]; // [C][C]
  end: number[]; // [C]
}

export type ConstraintScheme = 'BIO' | 'BIOES';

/**
 * Score added to a forbidden move. Finite, so logsumexp never meets -inf - -inf; large
 * enough that exp(penalty) is 0 in float32 and no path with a forbidden move wins Viterbi.
 */
export const CONSTRAINT_PENALTY = -1e4;

function parseLabel(label: string, scheme: ConstraintScheme): ParsedTag {
  const tag = parseTag(label);
  const letters = scheme === 'BIO' ? 'BIO' : 'BIOES';
  if (!letters.includes(tag.prefix)) throw new Error(`allowedTransitions: label '${label}' is not a ${scheme} tag (expected O or ${[...letters].filter((l) => l !== 'O').map((l) => l + '-TYPE').join(', ')})`);
  return tag;
}

/**
 * BIO: I-X only after B-X or I-X (so never first). BIOES additionally: an entity opened
 * by B-X continues with I-X or closes with E-X; O, B-Y, S-Y only outside an entity;
 * a sequence cannot start inside an entity (I-X, E-X) or end in one (B-X, I-X).
 */
export function allowedTransitions(labels: readonly string[], scheme: ConstraintScheme): AllowedTransitions {
  if (scheme !== 'BIO' && scheme !== 'BIOES') throw new Error(`allowedTransitions: unknown scheme '${String(scheme)}' (expected 'BIO' or 'BIOES')`);
  const tags = labels.map((l) => parseLabel(l, scheme));
  // "Inside" tags leave an entity open: the next tag must continue it.
  const opens = (t: ParsedTag) => scheme === 'BIOES' && (t.prefix === 'B' || t.prefix === 'I');
  const continues = (t: ParsedTag) => t.prefix === 'I' || (scheme === 'BIOES' && t.prefix === 'E');
  const follows = (from: ParsedTag, to: ParsedTag): boolean => {
    if (scheme === 'BIO') return to.prefix !== 'I' || ((from.prefix === 'B' || from.prefix === 'I') && from.type === to.type);
    if (opens(from)) return continues(to) && from.type === to.type;
    return !continues(to);
  };
  return {
    start: tags.map((t) => (continues(t) ? 0 : 1)),
    transitions: tags.map((from) => tags.map((to) => (follows(from, to) ? 1 : 0))),
    end: tags.map((t) => (opens(t) ? 0 : 1)),
  };
}
