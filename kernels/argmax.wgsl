// argmax.wgsl: index of the largest value along the middle axis of [outer, axis, inner];
// the first one wins on ties, as in src/backend/cpu/reduce.ts (argmax).
// Bindings: 0 params {outer, axis, inner}, 1 x: f32[outer * axis * inner], 2 y: i32[outer * inner].
// Dispatch: one invocation per output.

override WORKGROUP_SIZE: u32 = 256;

struct Params { outer: u32, axis: u32, inner: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<i32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.outer * params.inner) { return; }
  let o = index / params.inner;
  let i = index % params.inner;
  let base = o * params.axis * params.inner + i;
  var best = 0u;
  var bestValue = negativeInfinity();
  for (var r = 0u; r < params.axis; r++) {
    let v = x[base + r * params.inner];
    if (v > bestValue) {
      best = r;
      bestValue = v;
    }
  }
  y[index] = i32(best);
}
