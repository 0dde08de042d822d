// Reverse-mode autodiff over the dynamic graph that ops record as they run
// (micrograd's design): each op output holds a GradNode with its inputs and a
// backward closure; backward() walks the nodes in reverse topological order
// and accumulates gradients with +=.

import { Tensor } from '../tensor/tensor.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { keep, tidy } from '../tensor/scope.js';
import { contiguousStrides } from '../tensor/shape.js';

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Given dL/d(output), returns dL/d(input) for each input (null where not needed). */
  backward: (grad: Tensor) => (Tensor | null)[];
}

/** Attach a backward closure to an op's output if any input needs a gradient. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: BERT-sized graphs are deep enough to overflow the JS stack.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t)) continue;
    visited.add(t);
    stack.push([t, true]);
    for (const input of t.node?.inputs ?? []) if (input.requiresGrad && !visited.has(input)) stack.push([input, false]);
  }
  return order;
}

/**
 * Accumulate d(root)/d(leaf) into every leaf's `.grad`. `grad` is the upstream
 * gradient (required unless root is a scalar). Intermediate gradients are
 * disposed as soon as they are consumed; the graph is freed unless retainGraph.
 */
export function backward(root: Tensor, grad?: Tensor, retainGraph = false): void {
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require grad (no input had requiresGrad set)');
  if (!grad && root.size !== 1) {
    throw new Error(`backward: output has shape [${root.shape.join(', ')}]; pass an explicit upstream gradient for a non-scalar`);
  }
  noGrad(() => {
    const order = topologicalOrder(root);
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, grad ? grad.alias() : root.onesLike());
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        continue;
      }
      // tidy: temporaries of the closure die here; the returned gradients survive.
      const node = t.node;
      const inputGrads = tidy(() => node.backward(g));
      const owned = new Set<Tensor>([g]);
      t.node.inputs.forEach((input, k) => {
        let ig = inputGrads[k];
        if (!ig || !input.requiresGrad) return;
        if (ig.shape.length !== input.shape.length || ig.shape.some((d, j) => d !== input.shape[j])) {
          throw new Error(`backward of ${t.node!.op}: gradient shape [${ig.shape}] does not match input shape [${input.shape}]`);
        }
        // A closure may return its upstream gradient, or one tensor twice; alias so each is owned once.
        if (owned.has(ig)) ig = ig.alias();
        owned.add(ig);
        const previous = grads.get(input);
        if (previous) {
          grads.set(input, accumulate(previous, ig));
          previous.dispose();
          ig.dispose();
        } else grads.set(input, ig);
      });
      for (const ig of inputGrads) if (ig && !owned.has(ig) && !ig.isDisposed) ig.dispose();
      g.dispose();
      if (!retainGraph) t.node = null;
    }
  });
}

/** a + b for two gradients of one shape: one backend kernel (the pass runs without recording, and below the ops). */
function accumulate(a: Tensor, b: Tensor): Tensor {
  const strides = contiguousStrides(a.shape);
  return Tensor.fromStorage(a.backend.binary('add', a.storage, b.storage, { outShape: [...a.shape], stridesA: strides, stridesB: strides }), a.shape, a.backend);
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad) {
    const sum = accumulate(leaf.grad, g);
    leaf.grad.dispose();
    g.dispose();
    leaf.grad = keep(sum);
  } else {
    leaf.grad = keep(g);
  }
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Accumulate d(this)/d(leaf) into every leaf's `.grad` (see backward()). */
    backward(grad?: Tensor, options?: { retainGraph?: boolean }): void;
  }
}

// Installed here, a layer above the tensor, so src/tensor never imports autograd (as src/ops/methods.ts does for the ops).
Object.defineProperty(Tensor.prototype, 'backward', {
  value: function (this: Tensor, grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    backward(this, grad, options.retainGraph ?? false);
  },
  writable: true,
  configurable: true,
});
