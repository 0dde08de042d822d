// reduce.wgsl: sum / max / min / sum of squares over the middle axis of an [outer, axis, inner] view.
// Reference: the rows' `fold` (src/ops/tables/reduce.ts) and src/backend/cpu/reference.ts.
// Two entry points over the same bindings:
// - reduce_columns: one invocation per output (o, i) walks the axis; for many
//   outputs or short axes. Dispatch: ceil(outer * inner / WORKGROUP_SIZE).
// - reduce_wide: one workgroup per output; its invocations stride over the axis
//   and combine partial results in a shared-memory tree. For few outputs and long
//   axes (the sum of a whole tensor), where one invocation would walk alone and a
//   long serial f32 sum would lose precision. Dispatch: outer * inner workgroups.
// Bindings: 0 params {outer, axis, inner}, 1 x: f32[outer * axis * inner], 2 y: f32[outer * inner].

override WORKGROUP_SIZE: u32 = 64;
// The row index in src/ops/tables/reduce.ts.
override OP: u32 = 0;

struct Params { outer: u32, axis: u32, inner: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

// Each switch has one case per row of src/ops/tables/reduce.ts (its `wgsl`), spliced in where the
// markers are when the kernel is loaded (src/backend/webgpu/op-tables.ts); the default is no op: NaN.

fn notAnOp() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

/// Where every fold starts.
fn identity() -> f32 {
  switch OP {
    // @op-table reduce.identity
    default: { return notAnOp(); }
  }
}

/// Fold one input element v into a running result.
fn accumulate(acc: f32, v: f32) -> f32 {
  switch OP {
    // @op-table reduce.fold
    default: { return notAnOp(); }
  }
}

/// Merge two partial results.
fn combine(acc: f32, v: f32) -> f32 {
  switch OP {
    // @op-table reduce.combine
    default: { return notAnOp(); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce_columns(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.outer * params.inner) { return; }
  let o = index / params.inner;
  let i = index % params.inner;
  let base = o * params.axis * params.inner + i;
  var acc = identity();
  for (var r = 0u; r < params.axis; r++) {
    acc = accumulate(acc, x[base + r * params.inner]);
  }
  y[index] = acc;
}

// Sized for the largest WORKGROUP_SIZE the host uses with this entry point.
var<workgroup> partials: array<f32, 256>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce_wide(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lane: u32) {
  // The output index is uniform across the workgroup, so every lane reaches the barriers.
  let index = group.x + group.y * groups.x;
  let isActive = index < params.outer * params.inner;
  let o = index / max(params.inner, 1u);
  let i = index % max(params.inner, 1u);
  let base = o * params.axis * params.inner + i;
  var acc = identity();
  if (isActive) {
    for (var r = lane; r < params.axis; r += WORKGROUP_SIZE) {
      acc = accumulate(acc, x[base + r * params.inner]);
    }
  }
  partials[lane] = acc;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      partials[lane] = combine(partials[lane], partials[lane + width]);
    }
    workgroupBarrier();
  }
  if (lane == 0u && isActive) {
    y[index] = partials[0];
  }
}
