// Word <-> subword alignment: spread word labels over subword positions for training, and pool subword
// predictions back to words for decoding. `wordIds` is Encoding.wordIds (null at special tokens).

export type SubwordLabelMode = 'first' | 'all';

export interface SubwordLabelOptions<L> {
  /** 'first': only a word's first subword carries its label; 'all': every subword does. */
  mode?: SubwordLabelMode;
  /** Label for positions that the loss must skip (special tokens, non-first subwords in 'first' mode). */
  ignoreLabel: L;
  /** In 'all' mode, the label for continuation subwords (e.g. B-X -> I-X so the subword sequence stays valid). */
  continuationLabel?: (label: L) => L;
}

export function labelSubwords<L>(wordIds: readonly (number | null)[], wordLabels: readonly L[], options: SubwordLabelOptions<L>): L[] {
  const mode = options.mode ?? 'first';
  let previousWord: number | null = null;
  return wordIds.map((wordId) => {
    if (wordId === null) {
      previousWord = null;
      return options.ignoreLabel;
    }
    const label = wordLabels[wordId];
    if (label === undefined) throw new Error(`labelSubwords: word ${wordId} has no label (${wordLabels.length} labels)`);
    const isFirst = wordId !== previousWord;
    previousWord = wordId;
    if (isFirst) return label;
    if (mode === 'first') return options.ignoreLabel;
    return options.continuationLabel ? options.continuationLabel(label) : label;
  });
}

/** Position of each word's first subword (-1 for a word that produced no subword, e.g. only control chars). */
export function firstSubwordIndex(wordIds: readonly (number | null)[], wordCount: number): number[] {
  const first = new Array<number>(wordCount).fill(-1);
  wordIds.forEach((wordId, position) => {
    if (wordId !== null && first[wordId] === -1) first[wordId] = position;
  });
  return first;
}

/** Word-level values from subword-level ones, taking each word's first subword; `missing` where it has none. */
export function subwordsToWords<T>(wordIds: readonly (number | null)[], subwordValues: readonly T[], wordCount: number, missing: T): T[] {
  return firstSubwordIndex(wordIds, wordCount).map((position) => (position < 0 ? missing : subwordValues[position]!));
}

/** Indices of tokens whose [start, end) overlaps the character span [start, end). */
export function tokensInCharSpan(offsets: readonly [number, number][], start: number, end: number): number[] {
  const hits: number[] = [];
  offsets.forEach(([tokenStart, tokenEnd], index) => {
    if (tokenEnd > tokenStart && tokenStart < end && tokenEnd > start) hits.push(index);
  });
  return hits;
}
