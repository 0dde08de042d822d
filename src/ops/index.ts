// Every op of the engine. One file per family; in each, forward and backward side by side.
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './indexing.js';
export * from './fused.js';
