// The interface of every WGSL kernel as typed data (praeclarum/webgpu-torch's
// idea): which file and entry point, which storage buffers at which binding,
// the uniform struct at binding 0, the workgroup size and how it is dispatched.
// Only the bodies are hand-written, in kernels/*.wgsl; this table must agree with
// their header comments, and a mismatch fails loudly at bind-group creation.

/** A field of the uniform struct: a 32-bit scalar, or up to 8 dims packed as `array<vec4u, 2>`. */
export type UniformType = 'u32' | 'i32' | 'f32' | 'dims';
export type UniformField = readonly [name: string, type: UniformType];

/**
 * How a call's `count` becomes workgroups:
 * - invocations: one invocation per item, ceil(count / workgroupSize) workgroups;
 * - workgroups: one workgroup per item;
 * - tiles: matmul's 2-D grid of 4x4 blocks (the host passes the grid itself);
 * - grid: the host passes the grid and every override constant (matmul_tiled).
 * Counts past 65535 workgroups spill into y; kernels rebuild the flat index from num_workgroups.
 */
export type Dispatch = 'invocations' | 'workgroups' | 'tiles' | 'grid';

export interface KernelSpec {
  /** File under kernels/. */
  file: string;
  entryPoint: string;
  /** Storage buffers; binding i + 1 is bindings[i] (binding 0 is the uniform struct). null: declared in the file but not bound by this entry point. */
  bindings: readonly (string | null)[];
  uniforms: readonly UniformField[];
  /** Passed as the WORKGROUP_SIZE override (tiles: TILE_COLUMNS x TILE_ROWS = 8 x 8). */
  workgroupSize: number;
  dispatch: Dispatch;
}

/** The most dimensions a broadcast or strided copy takes after merging contiguous ones. */
export const MAX_DIMS = 8;

const axisUniforms = [['outer', 'u32'], ['axis', 'u32'], ['inner', 'u32']] as const;
const crfUniforms = [['batch', 'u32'], ['steps', 'u32'], ['tags', 'u32']] as const;
const crossEntropyUniforms = [['rows', 'u32'], ['classes', 'u32'], ['ignoreIndex', 'i32'], ['hasWeights', 'u32']] as const;
const indexUniforms = [['outer', 'u32'], ['rows', 'u32'], ['inner', 'u32'], ['count', 'u32']] as const;
const matmulUniforms = [['batch', 'u32'], ['m', 'u32'], ['k', 'u32'], ['n', 'u32'], ['batchStrideA', 'u32'], ['batchStrideB', 'u32']] as const;
const semiCrfUniforms = [['batch', 'u32'], ['steps', 'u32'], ['labels', 'u32'], ['maxLength', 'u32']] as const;
const semiCrfInputs = ['emissions', 'mask', 'transitions', 'start', 'end', 'lengthScores'] as const;
const semiCrfBackwardBindings = [...semiCrfInputs, 'alpha', 'dlogZ', 'scratch', 'dEmissions', 'partials', 'sums'] as const;
const crfBackwardBindings = ['emissions', 'mask', 'transitions', 'start', 'end', 'alpha', 'dlogZ', 'beta', 'logZ', 'dEmissions', 'dTransitions', 'dStart', 'dEnd'] as const;

function only(all: readonly string[], used: readonly string[]): (string | null)[] {
  return all.map((name) => (used.includes(name) ? name : null));
}

export const KERNELS = {
  unary: { file: 'unary.wgsl', entryPoint: 'main', bindings: ['x', 'y'], uniforms: [['size', 'u32']], workgroupSize: 256, dispatch: 'invocations' },
  binary: {
    file: 'binary.wgsl', entryPoint: 'main', bindings: ['a', 'b', 'y'],
    uniforms: [['shape', 'dims'], ['stridesA', 'dims'], ['stridesB', 'dims'], ['rank', 'u32'], ['size', 'u32']],
    workgroupSize: 256, dispatch: 'invocations',
  },
  where: {
    file: 'where.wgsl', entryPoint: 'main', bindings: ['cond', 'a', 'b', 'y'],
    uniforms: [['shape', 'dims'], ['stridesCond', 'dims'], ['stridesA', 'dims'], ['stridesB', 'dims'], ['rank', 'u32'], ['size', 'u32']],
    workgroupSize: 256, dispatch: 'invocations',
  },
  copyStrided: {
    file: 'copy_strided.wgsl', entryPoint: 'main', bindings: ['src', 'dst'],
    uniforms: [['shape', 'dims'], ['srcStrides', 'dims'], ['dstStrides', 'dims'], ['rank', 'u32'], ['size', 'u32'], ['srcOffset', 'u32'], ['dstOffset', 'u32']],
    workgroupSize: 256, dispatch: 'invocations',
  },
  fill: { file: 'fill.wgsl', entryPoint: 'main', bindings: ['y'], uniforms: [['size', 'u32'], ['value', 'f32']], workgroupSize: 256, dispatch: 'invocations' },
  reduceColumns: { file: 'reduce.wgsl', entryPoint: 'reduce_columns', bindings: ['x', 'y'], uniforms: axisUniforms, workgroupSize: 64, dispatch: 'invocations' },
  reduceWide: { file: 'reduce.wgsl', entryPoint: 'reduce_wide', bindings: ['x', 'y'], uniforms: axisUniforms, workgroupSize: 64, dispatch: 'workgroups' },
  argmax: { file: 'argmax.wgsl', entryPoint: 'main', bindings: ['x', 'y'], uniforms: axisUniforms, workgroupSize: 256, dispatch: 'invocations' },
  softmax: { file: 'softmax.wgsl', entryPoint: 'main', bindings: ['x', 'y'], uniforms: axisUniforms, workgroupSize: 256, dispatch: 'invocations' },
  softmaxRows: { file: 'softmax_rows.wgsl', entryPoint: 'main', bindings: ['x', 'y'], uniforms: axisUniforms, workgroupSize: 256, dispatch: 'workgroups' },
  matmul: { file: 'matmul.wgsl', entryPoint: 'main', bindings: ['a', 'b', 'c'], uniforms: matmulUniforms, workgroupSize: 64, dispatch: 'tiles' },
  matmulVec4: { file: 'matmul_vec4.wgsl', entryPoint: 'main', bindings: ['a', 'b', 'c'], uniforms: matmulUniforms, workgroupSize: 64, dispatch: 'tiles' },
  matmulTiled: { file: 'matmul_tiled.wgsl', entryPoint: 'main', bindings: ['a', 'b', 'c'], uniforms: matmulUniforms, workgroupSize: 256, dispatch: 'grid' },
  indexSelect: { file: 'index_select.wgsl', entryPoint: 'main', bindings: ['x', 'index', 'y'], uniforms: indexUniforms, workgroupSize: 256, dispatch: 'invocations' },
  indexAddLink: {
    file: 'index_add.wgsl', entryPoint: 'link', bindings: only(['grad', 'index', 'next', 'first', 'y'], ['index', 'next', 'first']),
    uniforms: indexUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  indexAddAccumulate: {
    file: 'index_add.wgsl', entryPoint: 'accumulate', bindings: ['grad', 'index', 'next', 'first', 'y'],
    uniforms: indexUniforms, workgroupSize: 256, dispatch: 'invocations',
  },
  layerNorm: {
    file: 'layer_norm.wgsl', entryPoint: 'main', bindings: ['x', 'gamma', 'beta', 'y', 'mean', 'rstd'],
    uniforms: [['rows', 'u32'], ['dim', 'u32'], ['eps', 'f32']], workgroupSize: 64, dispatch: 'invocations',
  },
  layerNormRows: {
    file: 'layer_norm_rows.wgsl', entryPoint: 'main', bindings: ['x', 'gamma', 'beta', 'y', 'mean', 'rstd'],
    uniforms: [['rows', 'u32'], ['dim', 'u32'], ['eps', 'f32']], workgroupSize: 256, dispatch: 'workgroups',
  },
  layerNormInputGrad: {
    file: 'layer_norm_backward.wgsl', entryPoint: 'input_grad',
    bindings: only(['dy', 'x', 'gamma', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta'], ['dy', 'x', 'gamma', 'mean', 'rstd', 'dx']),
    uniforms: [['rows', 'u32'], ['dim', 'u32']], workgroupSize: 64, dispatch: 'invocations',
  },
  layerNormParamGrads: {
    file: 'layer_norm_backward.wgsl', entryPoint: 'param_grads',
    bindings: only(['dy', 'x', 'gamma', 'mean', 'rstd', 'dx', 'dgamma', 'dbeta'], ['dy', 'x', 'mean', 'rstd', 'dgamma', 'dbeta']),
    uniforms: [['rows', 'u32'], ['dim', 'u32']], workgroupSize: 64, dispatch: 'invocations',
  },
  rotary: {
    file: 'rotary.wgsl', entryPoint: 'main', bindings: ['x', 'cosTable', 'sinTable', 'y'],
    uniforms: [['pairs', 'u32'], ['length', 'u32'], ['inner', 'u32'], ['half', 'u32'], ['sign', 'f32']], workgroupSize: 256, dispatch: 'invocations',
  },
  windowBias: {
    file: 'window_bias.wgsl', entryPoint: 'main', bindings: ['mask', 'bias'],
    uniforms: [['size', 'u32'], ['length', 'u32'], ['halfWindow', 'u32'], ['masked', 'f32']], workgroupSize: 256, dispatch: 'invocations',
  },
  geglu: {
    file: 'geglu.wgsl', entryPoint: 'main', bindings: only(['x', 'dy', 'y', 'dx'], ['x', 'y']),
    uniforms: [['size', 'u32'], ['width', 'u32']], workgroupSize: 256, dispatch: 'invocations',
  },
  gegluBackward: {
    file: 'geglu.wgsl', entryPoint: 'backward', bindings: only(['x', 'dy', 'y', 'dx'], ['x', 'dy', 'dx']),
    uniforms: [['size', 'u32'], ['width', 'u32']], workgroupSize: 256, dispatch: 'invocations',
  },
  crossEntropy: {
    file: 'cross_entropy.wgsl', entryPoint: 'main', bindings: ['logits', 'targets', 'classWeights', 'loss', 'weight'],
    uniforms: crossEntropyUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  crossEntropyRows: {
    file: 'cross_entropy_rows.wgsl', entryPoint: 'main', bindings: ['logits', 'targets', 'classWeights', 'loss', 'weight'],
    uniforms: crossEntropyUniforms, workgroupSize: 256, dispatch: 'workgroups',
  },
  crossEntropyBackward: {
    file: 'cross_entropy_backward.wgsl', entryPoint: 'main', bindings: ['logits', 'targets', 'classWeights', 'dloss', 'dlogits'],
    uniforms: crossEntropyUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  dropoutMask: {
    file: 'dropout.wgsl', entryPoint: 'main', bindings: ['mask'],
    uniforms: [['size', 'u32'], ['seededKey', 'u32'], ['threshold', 'u32'], ['scale', 'f32']], workgroupSize: 256, dispatch: 'invocations',
  },
  adamw: {
    file: 'adamw.wgsl', entryPoint: 'main', bindings: ['param', 'grad', 'm', 'v'],
    uniforms: [['size', 'u32'], ['lr', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['weightDecay', 'f32'], ['correction1', 'f32'], ['correction2', 'f32']],
    workgroupSize: 256, dispatch: 'invocations',
  },
  lstmStep: {
    file: 'lstm_step.wgsl', entryPoint: 'main', bindings: ['xProj', 'recurrent', 'h', 'c', 'act'],
    uniforms: [['rows', 'u32'], ['hidden', 'u32'], ['rowOffset', 'u32'], ['prevOffset', 'u32'], ['hasPrev', 'u32']],
    workgroupSize: 64, dispatch: 'invocations',
  },
  lstmStepBackward: {
    file: 'lstm_step_backward.wgsl', entryPoint: 'main', bindings: ['dh', 'dhRec', 'act', 'c', 'dxProj', 'dcCarry'],
    uniforms: [['rows', 'u32'], ['hidden', 'u32'], ['rowOffset', 'u32'], ['prevOffset', 'u32'], ['hasPrev', 'u32'], ['carriedRows', 'u32']],
    workgroupSize: 64, dispatch: 'invocations',
  },
  crfForward: {
    file: 'crf_forward.wgsl', entryPoint: 'main', bindings: ['emissions', 'mask', 'transitions', 'start', 'end', 'logZ', 'alpha'],
    uniforms: crfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
  crfBackwardSequence: {
    file: 'crf_backward.wgsl', entryPoint: 'sequence',
    bindings: only(crfBackwardBindings, ['emissions', 'mask', 'transitions', 'end', 'alpha', 'dlogZ', 'beta', 'logZ', 'dEmissions']),
    uniforms: crfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
  crfBackwardTransitions: {
    file: 'crf_backward.wgsl', entryPoint: 'transition_grads',
    bindings: only(crfBackwardBindings, ['emissions', 'mask', 'transitions', 'alpha', 'dlogZ', 'beta', 'logZ', 'dTransitions']),
    uniforms: crfUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  crfBackwardBoundaries: {
    file: 'crf_backward.wgsl', entryPoint: 'boundary_grads',
    bindings: only(crfBackwardBindings, ['emissions', 'start', 'end', 'alpha', 'dlogZ', 'beta', 'logZ', 'dStart', 'dEnd']),
    uniforms: crfUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  viterbi: {
    file: 'viterbi.wgsl', entryPoint: 'main', bindings: ['emissions', 'mask', 'transitions', 'start', 'end', 'backpointers', 'bestTags', 'score'],
    uniforms: crfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
  semiCrfForward: {
    file: 'semi_crf_forward.wgsl', entryPoint: 'main', bindings: [...semiCrfInputs, 'logZ', 'alpha'],
    uniforms: semiCrfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
  semiCrfBackwardSequence: {
    file: 'semi_crf_backward.wgsl', entryPoint: 'sequence', bindings: only(semiCrfBackwardBindings, semiCrfBackwardBindings.filter((b) => b !== 'sums')),
    uniforms: semiCrfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
  semiCrfBatchSums: {
    file: 'semi_crf_backward.wgsl', entryPoint: 'batch_sums', bindings: only(semiCrfBackwardBindings, ['partials', 'sums']),
    uniforms: semiCrfUniforms, workgroupSize: 64, dispatch: 'invocations',
  },
  semiCrfViterbi: {
    file: 'semi_crf_viterbi.wgsl', entryPoint: 'main', bindings: [...semiCrfInputs, 'backpointers', 'labels', 'score'],
    uniforms: semiCrfUniforms, workgroupSize: 64, dispatch: 'workgroups',
  },
} as const satisfies Record<string, KernelSpec>;

export type KernelName = keyof typeof KERNELS;

/** Every file the table names, for preloading. */
export function kernelFiles(): string[] {
  return [...new Set(Object.values(KERNELS).map((k) => k.file))];
}

/** The most storage buffers any one entry point binds (the device must allow as many). */
export function maxStorageBindings(): number {
  return Math.max(...Object.values(KERNELS).map((k) => (k.bindings as readonly (string | null)[]).filter((b) => b !== null).length));
}

/**
 * Pack uniform values into the bytes of the WGSL struct: scalars are 4 bytes with
 * 4-byte alignment; `dims` is array<vec4u, 2> (32 bytes, 16-byte aligned). The
 * size is rounded up to 16, as uniform buffers want.
 */
export function packUniforms(spec: KernelSpec, values: Record<string, number | readonly number[]>): ArrayBuffer {
  let offset = 0;
  const places: [UniformField, number][] = [];
  for (const field of spec.uniforms) {
    if (field[1] === 'dims') offset = Math.ceil(offset / 16) * 16;
    places.push([field, offset]);
    offset += field[1] === 'dims' ? 4 * MAX_DIMS : 4;
  }
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(offset / 16) * 16));
  const view = new DataView(bytes);
  for (const [[name, type], at] of places) {
    const value = values[name];
    if (value === undefined) throw new Error(`kernels/${spec.file} (${spec.entryPoint}): uniform '${name}' was not given`);
    if (type === 'dims') {
      const dims = value as readonly number[];
      if (dims.length > MAX_DIMS) throw new Error(`kernels/${spec.file}: '${name}' has ${dims.length} dims, at most ${MAX_DIMS} are supported`);
      dims.forEach((d, i) => view.setUint32(at + 4 * i, d, true));
    } else if (type === 'u32') view.setUint32(at, value as number, true);
    else if (type === 'i32') view.setInt32(at, value as number, true);
    else view.setFloat32(at, value as number, true);
  }
  return bytes;
}
