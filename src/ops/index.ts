// Every op of the engine. One file per family; in each, forward and backward side by side.
// Kernel-level helpers (unaryKernel, binaryKernel, reshapeOwned, sumToShape) skip autograd or
// consume their input, so they stay private to the ops.
export {
  add, sub, mul, div, pow, maximum, minimum, eq, ne, gt, ge, lt, le,
  neg, exp, log, sqrt, abs, tanh, sigmoid, relu, gelu, square,
} from './elementwise.js';
export { sum, sumSquares, mean, max, min, argmax, softmax, logSoftmax, logsumexp } from './reduce.js';
export { reshape, unsqueeze, squeeze, permute, transpose, slice, expand, concat, stack } from './shape.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { indexSelect, embedding, where, maskedFill } from './indexing.js';
export { layerNorm, crossEntropy, dropout, type CrossEntropyOptions } from './fused.js';
