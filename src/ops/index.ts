// Every op of the engine, one file per family, forward and backward side by side.
// The pointwise ops and reductions derive from the op tables in ./tables/ (see ./README.md).
// Kernel-level helpers (unaryKernel, binaryKernel, out) bypass autograd and stay private.
import './methods.js'; // the Tensor methods (x.add(y), x.sum(), ...), derived from the ops below

export {
  unaryOps, binaryOps,
  neg, exp, log, sqrt, abs, sign, tanh, sigmoid, relu, step, gelu, geluGrad, square,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, gt, ge, lt, le,
} from './elementwise.js';
export { sum, sumSquares, mean, max, min, argmax, softmax, logSoftmax, logsumexp } from './reduce.js';
export { reshape, unsqueeze, squeeze, permute, transpose, slice, expand, concat, stack } from './shape.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { indexSelect, embedding, where, maskedFill } from './indexing.js';
export { layerNorm, crossEntropy, dropout, type CrossEntropyOptions } from './fused.js';
