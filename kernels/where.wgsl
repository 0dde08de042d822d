// where.wgsl: y = cond != 0 ? a : b, all three broadcast through their own strides.
// Reference: src/backend/cpu/elementwise.ts (where).
// Bindings: 0 params {shape, stridesCond, stridesA, stridesB: 2 x vec4u each; rank, size},
//           1 cond: f32, 2 a: f32, 3 b: f32, 4 y: f32[size].
// Dispatch: one invocation per output element.

override WORKGROUP_SIZE: u32 = 256;

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

fn at(values: array<vec4u, 2>, d: u32) -> u32 {
  return values[d / 4u][d % 4u];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  var rest = index;
  var offsetCond = 0u;
  var offsetA = 0u;
  var offsetB = 0u;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let extent = at(params.shape, u32(d));
    let coordinate = rest % extent;
    rest = rest / extent;
    offsetCond += coordinate * at(params.stridesCond, u32(d));
    offsetA += coordinate * at(params.stridesA, u32(d));
    offsetB += coordinate * at(params.stridesB, u32(d));
  }
  y[index] = select(b[offsetB], a[offsetA], cond[offsetCond] != 0.0);
}
