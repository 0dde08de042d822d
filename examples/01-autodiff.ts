// Example 1 — autodiff by hand.
// A few scalars, a small graph, backward(), and each gradient printed beside
// the value worked out on paper with the chain rule.
// Run: npx tsx examples/01-autodiff.ts

import { tensor, ops } from '../src/index.js';

// f(a, b, c) = tanh(a * b + c) * a
const a = tensor(2.0, [], { requiresGrad: true });
const b = tensor(-0.5, [], { requiresGrad: true });
const c = tensor(0.3, [], { requiresGrad: true });

const u = ops.mul(a, b); //        u = a*b      = -1.0
const v = ops.add(u, c); //        v = u + c    = -0.7
const w = ops.tanh(v); //          w = tanh(v)
const f = ops.mul(w, a); //        f = w * a
f.backward(); //                   walks the graph in reverse, accumulating df/dx into x.grad

// On paper: let t = tanh(-0.7) and s = 1 - t^2 (the derivative of tanh).
const t = Math.tanh(2.0 * -0.5 + 0.3);
const s = 1 - t * t;
const byHand = {
  f: t * 2.0,
  'df/da': s * -0.5 * 2.0 + t, // a appears twice: through u (chain rule) and directly
  'df/db': s * 2.0 * 2.0,
  'df/dc': s * 2.0,
};
const byEngine = {
  f: f.dataSync()[0]!,
  'df/da': a.grad!.dataSync()[0]!,
  'df/db': b.grad!.dataSync()[0]!,
  'df/dc': c.grad!.dataSync()[0]!,
};

console.log('quantity   engine       by hand');
for (const key of Object.keys(byHand) as (keyof typeof byHand)[]) {
  console.log(`${key.padEnd(9)} ${byEngine[key].toFixed(6).padStart(10)}  ${byHand[key].toFixed(6).padStart(10)}`);
}
const worst = Math.max(...Object.keys(byHand).map((k) => Math.abs(byEngine[k as keyof typeof byHand] - byHand[k as keyof typeof byHand])));
console.log(`largest difference: ${worst.toExponential(2)} (float32 rounding)`);
if (worst > 1e-5) process.exitCode = 1;
