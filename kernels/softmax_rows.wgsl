// softmax_rows.wgsl: softmax or log_softmax (override LOG) of each row of x [rows, D]
// for real GPUs: one workgroup per row, its lanes stride along the row and combine
// their partial max and sum in workgroup memory (a tree of WORKGROUP_SIZE / 2, /4, ...
// lanes; WORKGROUP_SIZE must be a power of two). softmax.wgsl (one invocation per row)
// serves software adapters and the non-last-axis layouts.
// Reference: src/backend/cpu/reduce.ts (softmax).
// Bindings: 0 params {outer, axis, inner} (inner = 1: rows = outer, D = axis), 1 x: f32, 2 y: f32.
// Dispatch: one workgroup per row (rows past 65535 spill into y).

override WORKGROUP_SIZE: u32 = 256;
override LOG: bool = false;

struct Params { outer: u32, axis: u32, inner: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

/// Every lane's `value` combined by max (isMax) or sum, left in partial[0].
/// (The caller reads it at top level: read inside here and returned, llvmpipe let
/// some lanes see the next reduction's writes.)
fn combine(lane: u32, value: f32, isMax: bool) {
  partial[lane] = value;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      let other = partial[lane + width];
      partial[lane] = select(partial[lane] + other, max(partial[lane], other), isMax);
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * groups.x;
  if (row >= params.outer) { return; }
  let width = params.axis;
  let base = row * width;
  var largest = negativeInfinity();
  for (var d = lane; d < width; d += WORKGROUP_SIZE) { largest = max(largest, x[base + d]); }
  combine(lane, largest, true);
  largest = partial[0];
  workgroupBarrier();
  var total = 0.0;
  for (var d = lane; d < width; d += WORKGROUP_SIZE) { total += exp(x[base + d] - largest); }
  combine(lane, total, false);
  total = partial[0];
  let logTotal = log(total);
  for (var d = lane; d < width; d += WORKGROUP_SIZE) {
    let shifted = x[base + d] - largest;
    if (LOG) {
      y[base + d] = shifted - logTotal;
    } else {
      y[base + d] = exp(shifted) / total;
    }
  }
}
