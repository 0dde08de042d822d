// cross_entropy_rows.wgsl: per-row weighted negative log-likelihood of
// log_softmax(logits) at the target class, and the row's weight, as cross_entropy.wgsl,
// for real GPUs: one workgroup per row, lanes stride over the classes and combine
// partial max and sum in workgroup memory (WORKGROUP_SIZE a power of two).
// The sum is over every class but the row's first maximum, then log1p, so a confident
// row keeps its small loss's digits (see cross_entropy.wgsl).
// An out-of-range target counts as ignored (the CPU backend throws; a kernel cannot).
// Reference: src/backend/cpu/fused.ts (crossEntropy). N = rows, C = classes.
// Bindings: 0 params {rows, classes, ignoreIndex, hasWeights}, 1 logits: f32[N, C],
//           2 targets: i32[N], 3 classWeights: f32[C] (a 1-element dummy when hasWeights = 0),
//           4 loss: f32[N], 5 weight: f32[N].
// Dispatch: one workgroup per row (rows past 65535 spill into y).

override WORKGROUP_SIZE: u32 = 256;

struct Params { rows: u32, classes: u32, ignoreIndex: i32, hasWeights: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> classWeights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> weight: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;
var<workgroup> firstMaximum: array<u32, WORKGROUP_SIZE>;

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

/// log(1 + x) accurate for small x (Goldberg's trick: the rounding of 1 + x cancels out).
fn log1p(x: f32) -> f32 {
  let onePlus = 1.0 + x;
  if (onePlus == 1.0) { return x; }
  return log(onePlus) * x / (onePlus - 1.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * groups.x;
  if (row >= params.rows) { return; }
  let targetClass = targets[row];
  if (targetClass == params.ignoreIndex || targetClass < 0 || u32(targetClass) >= params.classes) {
    if (lane == 0u) {
      loss[row] = 0.0;
      weight[row] = 0.0;
    }
    return;
  }
  let classes = params.classes;
  let base = row * classes;
  // The row's maximum and the first class that holds it (ties go to the smaller class).
  var largest = negativeInfinity();
  var maxClass = classes;
  for (var c = lane; c < classes; c += WORKGROUP_SIZE) {
    let value = logits[base + c];
    if (value > largest || maxClass == classes) { largest = value; maxClass = c; }
  }
  partial[lane] = largest;
  firstMaximum[lane] = maxClass;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) {
      let other = partial[lane + width];
      let otherWhere = firstMaximum[lane + width];
      if (otherWhere < classes && (other > partial[lane] || (other == partial[lane] && otherWhere < firstMaximum[lane]) || firstMaximum[lane] == classes)) {
        partial[lane] = other;
        firstMaximum[lane] = otherWhere;
      }
    }
    workgroupBarrier();
  }
  largest = partial[0];
  maxClass = firstMaximum[0];
  workgroupBarrier();
  var rest = 0.0;
  for (var c = lane; c < classes; c += WORKGROUP_SIZE) {
    if (c != maxClass) { rest += exp(logits[base + c] - largest); }
  }
  partial[lane] = rest;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) { partial[lane] += partial[lane + width]; }
    workgroupBarrier();
  }
  if (lane == 0u) {
    // (largest - target logit) + log1p(rest): no cancellation when the target is the maximum.
    let w = select(1.0, classWeights[u32(targetClass)], params.hasWeights != 0u);
    loss[row] = w * ((largest - logits[base + u32(targetClass)]) + log1p(partial[0]));
    weight[row] = w;
  }
}
