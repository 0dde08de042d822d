// binary.wgsl: y = a OP b with NumPy broadcasting. Each input is read through
// its own strides (0 on broadcast dimensions); the host first merges dimensions
// that are contiguous in every operand, so plain same-shape ops run at rank 1.
// Reference: the rows' `cpu` functions (src/ops/tables/binary.ts) and src/backend/cpu/reference.ts (broadcasting).
// Bindings: 0 params {shape, stridesA, stridesB: up to 8 dims as 2 x vec4u; rank (= RANK), size},
//           1 a: f32, 2 b: f32, 3 y: f32[size] (contiguous, row-major in `shape`).
// Dispatch: one invocation per output element (x, then y beyond 65535 workgroups).

// RANK (override) is the merged rank, so the loop over dimensions has fixed bounds; the
// outermost coordinate is what remains after the others, so rank 1 (every same-shape op)
// has no integer division at all. Dimensions are read from the uniform in place: a helper
// taking the array by value made a per-invocation copy that llvmpipe could not vectorise
// (binary add ran at 7 M elements/s; now 100+).
override WORKGROUP_SIZE: u32 = 256;
override RANK: u32 = 1;
// The row index in src/ops/tables/binary.ts.
override OP: u32 = 0;

struct Params {
  shape: array<vec4u, 2>,
  stridesA: array<vec4u, 2>,
  stridesB: array<vec4u, 2>,
  rank: u32,
  size: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

/// Math.pow semantics where WGSL's pow (exp2(b * log2(a))) differs: a <= 0 and b == 0.
fn power(base: f32, exponent: f32) -> f32 {
  if (exponent == 0.0) { return 1.0; }
  let magnitude = pow(abs(base), exponent);
  if (base >= 0.0) { return magnitude; }
  if (fract(exponent) != 0.0) { var nanBits = 0x7fc00000u; return bitcast<f32>(nanBits); } // NaN, as Math.pow(-2, 0.5)
  let odd = fract(exponent * 0.5) != 0.0;
  return select(magnitude, -magnitude, odd);
}

/// One case per row of src/ops/tables/binary.ts (its `wgsl`), spliced in where the marker is when
/// the kernel is loaded (src/backend/webgpu/op-tables.ts); the case number is the row's op code.
/// The default is no op: NaN.
fn apply(l: f32, r: f32) -> f32 {
  switch OP {
    // @op-table binary
    default: { var nanBits = 0x7fc00000u; return bitcast<f32>(nanBits); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  var rest = index;
  var offsetA = 0u;
  var offsetB = 0u;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coordinate = rest % extent;
    rest = rest / extent;
    offsetA += coordinate * params.stridesA[d / 4u][d % 4u];
    offsetB += coordinate * params.stridesB[d / 4u][d % 4u];
  }
  offsetA += rest * params.stridesA[0].x;
  offsetB += rest * params.stridesB[0].x;
  y[index] = apply(a[offsetA], b[offsetB]);
}
