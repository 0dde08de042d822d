// The Tensor methods: `x.add(y).relu().sum()` is `sum(relu(add(x, y)))`. Installed on
// Tensor.prototype here, above the tensor layer, so src/tensor never imports the ops
// (tfjs-core chains its ops onto Tensor the same way). Every row of the unary and binary
// op tables becomes a method of its name; the other ops are listed below.

import { Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import { UNARY_OPS, BINARY_OPS, type BinaryOp, type UnaryOp } from './tables/index.js';
import { binaryOps, unaryOps } from './elementwise.js';
import { argmax, logSoftmax, logsumexp, max, mean, min, softmax, sum } from './reduce.js';
import { expand, permute, reshape, slice, squeeze, transpose, unsqueeze } from './shape.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { indexSelect, maskedFill } from './indexing.js';

type UnaryMethods = { [op in UnaryOp]: () => Tensor };
type BinaryMethods = { [op in BinaryOp]: (b: Tensor | number) => Tensor };

declare module '../tensor/tensor.js' {
  interface Tensor extends UnaryMethods, BinaryMethods {
    matmul(b: Tensor, options?: MatmulOptions): Tensor;
    sum(axis?: number | number[], keepDim?: boolean): Tensor;
    mean(axis?: number | number[], keepDim?: boolean): Tensor;
    max(axis?: number | number[], keepDim?: boolean): Tensor;
    min(axis?: number | number[], keepDim?: boolean): Tensor;
    logsumexp(axis: number, keepDim?: boolean): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    argmax(axis?: number, keepDim?: boolean): Tensor;
    reshape(shape: Shape): Tensor;
    permute(axes: number[]): Tensor;
    transpose(a?: number, b?: number): Tensor;
    slice(axis: number, start: number, end?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    squeeze(axis: number): Tensor;
    expand(shape: Shape): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
  }
}

/** An op taking the tensor first, as a method of every tensor. */
function install(name: string, op: (self: Tensor, ...args: never[]) => Tensor): void {
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, ...args: never[]) {
      return op(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}

for (const op of UNARY_OPS) install(op, unaryOps[op]);
for (const op of BINARY_OPS) install(op, binaryOps[op]);
const others = { matmul, sum, mean, max, min, logsumexp, softmax, logSoftmax, argmax, reshape, permute, transpose, slice, unsqueeze, squeeze, expand, indexSelect, maskedFill };
for (const [name, op] of Object.entries(others)) install(name, op as (self: Tensor, ...args: never[]) => Tensor);
