// Every op of the engine, one file per family, forward and backward side by side.
// The pointwise ops and reductions derive from the op tables in ./tables/ (see ./README.md).
// Kernel-level helpers (./util.ts: unaryKernel, binaryKernel, out) bypass autograd and stay private.
import './methods.js'; // the Tensor methods (x.add(y), x.sum(), ...), derived from the ops below

export * from './elementwise.js'; // every row of the unary and binary tables, by name

export { sum, sumSquares, mean, max, min, argmax, softmax, logSoftmax, logsumexp } from './reduce.js';
export { reshape, unsqueeze, squeeze, permute, transpose, slice, expand, concat, stack, clone } from './shape.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { indexSelect, embedding, where, maskedFill } from './indexing.js';
export { layerNorm, crossEntropy, dropout, adamwUpdate, type CrossEntropyOptions } from './fused.js';
export { rotary, slidingWindowBias, geglu } from './transformer.js';
export { quantizePerChannel, dequantize, linearInt8, lstmRecurrenceInt8, type QuantizedMatrix } from './quantized.js';
export { lstmRecurrence, crfLogPartition, crfViterbi, crfMarginals, semiCrfLogPartition, semiCrfViterbi, semiCrfMarginals } from './sequence.js';
