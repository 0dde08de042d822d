// Example 2 — a two-layer MLP learns XOR.
// Parameters are tensors with requiresGrad; each step runs inside tidy() so the
// intermediate buffers are freed; plain SGD updates the weights in place.
// Run: npx tsx examples/02-mlp-xor.ts [steps]

import { Rng, noGrad, ops, randn, tensor, tidy, zeros, keep } from '../src/index.js';

const steps = Number(process.argv[2] ?? 400);
const rng = new Rng(0);

// The four XOR points and their labels.
const x = tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
const y = tensor([0, 1, 1, 0], [4], { dtype: 'i32' });

// 2 -> 8 -> 2, tanh hidden layer.
const w1 = keep(randn([2, 8], { rng, std: 1, requiresGrad: true }));
const b1 = keep(zeros([8], { requiresGrad: true }));
const w2 = keep(randn([8, 2], { rng, std: 1, requiresGrad: true }));
const b2 = keep(zeros([2], { requiresGrad: true }));
const params = [w1, b1, w2, b2];
const learningRate = 0.5;

const forward = () => ops.add(ops.matmul(ops.tanh(ops.add(ops.matmul(x, w1), b1)), w2), b2);

for (let step = 0; step <= steps; step++) {
  const loss = tidy(() => {
    const l = ops.crossEntropy(forward(), y);
    l.backward();
    // SGD: p <- p - lr * grad, outside the graph.
    noGrad(() => params.forEach((p) => p.assign(ops.sub(p, ops.mul(p.grad!, learningRate)))));
    params.forEach((p) => p.zeroGrad());
    return l;
  });
  if (step % Math.max(1, Math.floor(steps / 8)) === 0) console.log(`step ${String(step).padStart(4)}  loss ${loss.dataSync()[0]!.toFixed(4)}`);
  loss.dispose();
}

const predictions = tidy(() => ops.argmax(forward(), -1)).dataSync();
console.log('inputs  predicted  expected');
[[0, 0], [0, 1], [1, 0], [1, 1]].forEach(([p, q], i) => console.log(`${p} ${p === q ? 'xor' : 'xor'} ${q}      ${predictions[i]}          ${p! ^ q!}`));
const correct = [0, 1, 1, 0].every((v, i) => predictions[i] === v);
console.log(correct ? 'learned XOR' : 'not learned yet: try more steps');
if (!correct) process.exitCode = 1;
