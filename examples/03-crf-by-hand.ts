// Example 3 — the linear-chain CRF by hand.
// 3 tags, 4 tokens: few enough paths (3^4 = 81) to list every one. The forward
// algorithm's log-partition is printed beside the log of the brute-force sum over
// all paths, Viterbi beside the brute-force argmax, and the forward-backward
// marginals beside the ones counted path by path. Exits with code 1 if any disagree.
// Run: npx tsx examples/03-crf-by-hand.ts [seed]
// T = tokens (4), C = tags (3)

import { CRF, Rng, noGrad, randn, tensor } from '../src/index.js';

const seed = Number(process.argv[2] ?? 3);
const TAGS = ['O', 'B-Disease', 'I-Disease'];
const WORDS = ['familial', 'breast', 'cancer', 'risk'];
const T = WORDS.length;
const C = TAGS.length;

// Random emission scores [1, T, C] (what a BiLSTM would produce) and random CRF
// parameters: the CRF starts uniform(-0.1, 0.1); wider values make the paths differ more.
const rng = new Rng(seed);
const emissions = randn([1, T, C], { rng, std: 1.5, requiresGrad: true });
const crf = new CRF(C, { rng });
noGrad(() => {
  crf.transitions.assign(randn([C, C], { rng }));
  crf.startTransitions.assign(randn([C], { rng }));
  crf.endTransitions.assign(randn([C], { rng }));
});

// Host copies in float64 for the brute force.
const e = Array.from(emissions.dataSync());
const trans = Array.from(crf.transitions.dataSync());
const start = Array.from(crf.startTransitions.dataSync());
const end = Array.from(crf.endTransitions.dataSync());

// score(y) = start[y0] + sum_t emission[t, y_t] + sum_t transition[y_{t-1}, y_t] + end[y_last]
function pathScore(path: number[]): number {
  let score = start[path[0]!]! + end[path[T - 1]!]!;
  path.forEach((tag, t) => {
    score += e[t * C + tag]!;
    if (t > 0) score += trans[path[t - 1]! * C + tag]!;
  });
  return score;
}

// Every path: the numbers 0..80 written in base 3.
const paths: number[][] = [];
for (let n = 0; n < C ** T; n++) paths.push(Array.from({ length: T }, (_, t) => Math.floor(n / C ** (T - 1 - t)) % C));
const scores = paths.map(pathScore);
// log sum exp, shifted by the max so exp() cannot overflow.
const maxScore = Math.max(...scores);
const bruteLogZ = maxScore + Math.log(scores.reduce((s, x) => s + Math.exp(x - maxScore), 0));
const bruteBest = paths[scores.indexOf(maxScore)]!;
// P(y_t = j) = sum of exp(score - logZ) over the paths with tag j at t.
const bruteMarginals = new Array<number>(T * C).fill(0);
paths.forEach((path, i) => path.forEach((tag, t) => (bruteMarginals[t * C + tag]! += Math.exp(scores[i]! - bruteLogZ))));

// The engine: the forward algorithm (O(T C^2) instead of O(C^T)), Viterbi, forward-backward.
const logZ = crf.logPartition(emissions);
const engineLogZ = logZ.dataSync()[0]!;
const decoded = await crf.decode(emissions);
const engineMarginals = Array.from(crf.marginals(emissions).dataSync());
// The marginals are also d logZ / d emissions: autodiff through the forward algorithm must agree.
logZ.backward();
const gradientOfLogZ = Array.from(emissions.grad!.dataSync());

console.log(`${paths.length} paths over ${T} tokens x ${C} tags\n`);
console.log(`log Z   forward algorithm ${engineLogZ.toFixed(6)}   brute force ${bruteLogZ.toFixed(6)}`);
const name = (path: number[]) => path.map((tag) => TAGS[tag]).join(' ');
console.log(`best    Viterbi  ${name(decoded.paths[0]!)} (score ${decoded.scores[0]!.toFixed(4)})`);
console.log(`        argmax   ${name(bruteBest)} (score ${maxScore.toFixed(4)})`);
// With random scores nothing forbids O -> I-Disease; example 7 shows the scheme constraints that do.
const invalid = bruteBest.some((tag, t) => tag === 2 && (t === 0 || bruteBest[t - 1] === 0));
console.log(invalid ? '        (an I-Disease without a B-Disease before it: invalid BIO, which an unconstrained CRF allows)\n' : '');

console.log('marginals P(tag | sentence): forward-backward / enumerated / d logZ / d emission');
console.log(`${''.padEnd(10)}${TAGS.map((tag) => tag.padEnd(28)).join('')}`);
WORDS.forEach((word, t) => {
  const cells = TAGS.map((_, j) => {
    const i = t * C + j;
    return `${engineMarginals[i]!.toFixed(4)} / ${bruteMarginals[i]!.toFixed(4)} / ${gradientOfLogZ[i]!.toFixed(4)}`.padEnd(28);
  });
  console.log(`${word.padEnd(10)}${cells.join('')}`);
});

// float32 engine vs float64 brute force: agreement to about 1e-5 relative.
const worstMarginal = Math.max(...engineMarginals.map((m, i) => Math.max(Math.abs(m - bruteMarginals[i]!), Math.abs(gradientOfLogZ[i]! - bruteMarginals[i]!))));
const logZError = Math.abs(engineLogZ - bruteLogZ);
const sameBest = decoded.paths[0]!.join() === bruteBest.join();
console.log(`\n|log Z difference| ${logZError.toExponential(2)}, largest marginal difference ${worstMarginal.toExponential(2)}, same best path: ${sameBest}`);
const agree = logZError < 1e-4 && worstMarginal < 1e-4 && sameBest;
console.log(agree ? 'CRF agrees with brute force' : 'CRF DISAGREES with brute force');
if (!agree) process.exitCode = 1;
