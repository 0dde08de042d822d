// softmax.wgsl: softmax or log_softmax (override LOG) along the middle axis of
// [outer, axis, inner], the max subtracted first so large logits do not overflow.
// Reference: src/backend/cpu/reduce.ts (softmax).
// Bindings: 0 params {outer, axis, inner}, 1 x: f32, 2 y: f32, both [outer * axis * inner].
// Dispatch: one invocation per (o, i) row, three passes over its axis.

override WORKGROUP_SIZE: u32 = 256;
override LOG: bool = false;

struct Params { outer: u32, axis: u32, inner: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.outer * params.inner) { return; }
  let o = index / params.inner;
  let i = index % params.inner;
  let base = o * params.axis * params.inner + i;
  let stride = params.inner;
  var largest = negativeInfinity();
  for (var r = 0u; r < params.axis; r++) {
    largest = max(largest, x[base + r * stride]);
  }
  var total = 0.0;
  for (var r = 0u; r < params.axis; r++) {
    total += exp(x[base + r * stride] - largest);
  }
  let logTotal = log(total);
  for (var r = 0u; r < params.axis; r++) {
    let shifted = x[base + r * stride] - largest;
    if (LOG) {
      y[base + r * stride] = shifted - logTotal;
    } else {
      y[base + r * stride] = exp(shifted) / total;
    }
  }
}
