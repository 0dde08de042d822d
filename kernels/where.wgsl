// where.wgsl: y = cond != 0 ? a : b, all three broadcast through their own strides.
// Reference: src/backend/cpu/elementwise.ts (where).
// Bindings: 0 params {shape, stridesCond, stridesA, stridesB: 2 x vec4u each; rank (= RANK), size},
//           1 cond: f32, 2 a: f32, 3 b: f32, 4 y: f32[size].
// Dispatch: one invocation per output element.

// RANK (override) is the merged rank, so the loop over dimensions has fixed bounds; the
// outermost coordinate is what remains after the others, so rank 1 (every same-shape op)
// has no integer division at all. Dimensions are read from the uniform in place: a helper
// taking the array by value made a per-invocation copy that llvmpipe could not vectorise
// (binary add ran at 7 M elements/s; now 100+).
override WORKGROUP_SIZE: u32 = 256;
override RANK: u32 = 1;

struct Params {
  shape: array<vec4u, 2>,
  stridesCond: array<vec4u, 2>,
  stridesA: array<vec4u, 2>,
  stridesB: array<vec4u, 2>,
  rank: u32,
  size: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cond: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  var rest = index;
  var offsetCond = 0u;
  var offsetA = 0u;
  var offsetB = 0u;
  for (var d = RANK - 1u; d > 0u; d--) {
    let extent = params.shape[d / 4u][d % 4u];
    let coordinate = rest % extent;
    rest = rest / extent;
    offsetCond += coordinate * params.stridesCond[d / 4u][d % 4u];
    offsetA += coordinate * params.stridesA[d / 4u][d % 4u];
    offsetB += coordinate * params.stridesB[d / 4u][d % 4u];
  }
  offsetCond += rest * params.stridesCond[0].x;
  offsetA += rest * params.stridesA[0].x;
  offsetB += rest * params.stridesB[0].x;
  y[index] = select(b[offsetB], a[offsetA], cond[offsetCond] != 0.0);
}
