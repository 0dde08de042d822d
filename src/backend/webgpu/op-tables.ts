// The op tables (src/ops/tables/) in WGSL: each kernel that serves a family of ops
// has a marker line `// @op-table <family>` inside a `switch OP`, replaced at load by
// one case per row, numbered by the row's op code. So the WGSL of an op is written
// once, in its row, and the op codes cannot drift from the host's.

import { UNARY, UNARY_OPS, type UnaryOp } from '../../ops/tables/unary.js';
import { BINARY, BINARY_OPS, type BinaryOp } from '../../ops/tables/binary.js';
import { REDUCE, REDUCE_OPS, type ReduceOp } from '../../ops/tables/reduce.js';

/** The OP override of kernels/unary.wgsl, binary.wgsl and reduce.wgsl: the row's position in its table. */
export const opCode = {
  unary: (op: UnaryOp): number => code(UNARY_OPS, op),
  binary: (op: BinaryOp): number => code(BINARY_OPS, op),
  reduce: (op: ReduceOp): number => code(REDUCE_OPS, op),
};

function code<T extends string>(names: readonly T[], op: T): number {
  const index = names.indexOf(op);
  if (index < 0) throw new Error(`webgpu: no op '${op}' in the op table (${names.join(', ')})`);
  return index;
}

function cases<T extends string>(names: readonly T[], body: (op: T) => string): string[] {
  return names.map((op, i) => `case ${i}u: { return ${body(op)}; } // ${op}`);
}

const FAMILIES: Record<string, () => string[]> = {
  unary: () => cases(UNARY_OPS, (op) => UNARY[op].wgsl),
  binary: () => cases(BINARY_OPS, (op) => BINARY[op].wgsl),
  'reduce.identity': () => cases(REDUCE_OPS, (op) => REDUCE[op].wgsl.identity),
  'reduce.fold': () => cases(REDUCE_OPS, (op) => REDUCE[op].wgsl.fold),
  'reduce.combine': () => cases(REDUCE_OPS, (op) => REDUCE[op].wgsl.combine),
};

const MARKER = /^([ \t]*)\/\/ @op-table (\S+)[ \t]*$/gm;

/** `source` (kernels/<file>) with every `// @op-table <family>` line replaced by that family's cases. */
export function spliceOpTables(file: string, source: string): string {
  return source.replace(MARKER, (_, indent: string, family: string) => {
    const generate = FAMILIES[family];
    if (!generate) throw new Error(`kernels/${file}: unknown op table '${family}' (known: ${Object.keys(FAMILIES).join(', ')})`);
    return generate().map((line) => indent + line).join('\n');
  });
}
