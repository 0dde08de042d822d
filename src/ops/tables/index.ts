// The op tables, one per family of pointwise ops and reductions (see src/ops/README.md).
export { UNARY, UNARY_OPS, erf, type UnaryOp, type UnaryRow, type UnaryDomain, type UnaryGradient } from './unary.js';
export { BINARY, BINARY_OPS, type BinaryOp, type BinaryRow, type BinaryDomain, type BinaryGradient } from './binary.js';
export { REDUCE, REDUCE_OPS, type ReduceOp, type ReduceRow, type ReduceGradient } from './reduce.js';
