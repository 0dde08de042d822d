// k-best Viterbi on the host, for one sequence: the k highest-scoring tag paths.
// Viterbi keeps the best path into each tag; this keeps the k best, each remembering
// which of the k entries at the previous step it extends. Cost O(L * C^2 * k log(Ck)).
// L = length, C = tags.

export interface ScoredPath {
  path: number[];
  score: number;
}

interface Entry {
  score: number;
  prevTag: number; // -1 at step 0
  prevRank: number;
}

/**
 * emissions [L*C] of one sequence (only its real steps), transitions [C*C] (i*C + j: i then j),
 * start and end [C]. Returns the min(k, #paths) best paths, best first; equal scores keep a stable
 * order. Paths of score -Infinity (a forbidden move) are left out.
 */
export function kBestPaths(emissions: ArrayLike<number>, length: number, transitions: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>, tags: number, k: number): ScoredPath[] {
  const C = tags;
  const byScore = (a: Entry, b: Entry) => b.score - a.score;
  const best = (entries: Entry[]) => entries.filter((e) => e.score > -Infinity).sort(byScore).slice(0, k);
  // table[t][j] = the k best prefixes ending in tag j at step t, best first.
  const table: Entry[][][] = [Array.from({ length: C }, (_, j) => best([{ score: start[j]! + emissions[j]!, prevTag: -1, prevRank: 0 }]))];
  for (let t = 1; t < length; t++) {
    const previous = table[t - 1]!;
    table.push(
      Array.from({ length: C }, (_, j) => {
        const candidates: Entry[] = [];
        for (let i = 0; i < C; i++) {
          previous[i]!.forEach((entry, rank) => candidates.push({ score: entry.score + transitions[i * C + j]! + emissions[t * C + j]!, prevTag: i, prevRank: rank }));
        }
        return best(candidates);
      }),
    );
  }
  const finals: Entry[] = [];
  table[length - 1]!.forEach((entries, j) => entries.forEach((entry, rank) => finals.push({ score: entry.score + end[j]!, prevTag: j, prevRank: rank })));
  return best(finals).map((final) => {
    const path = new Array<number>(length);
    let [tag, rank] = [final.prevTag, final.prevRank];
    for (let t = length - 1; t >= 0; t--) {
      path[t] = tag;
      const entry = table[t]![tag]![rank]!;
      [tag, rank] = [entry.prevTag, entry.prevRank];
    }
    return { path, score: final.score };
  });
}
