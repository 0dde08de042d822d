// cross_entropy.wgsl: per-row weighted negative log-likelihood of log_softmax(logits)
// at the target class, and the row's weight (0 for ignored rows), so the host can divide by
// the summed weights for the 'mean' reduction as torch does.
// An out-of-range target counts as ignored (the CPU backend throws; a kernel cannot).
// Reference: src/backend/cpu/fused.ts (crossEntropy). N = rows, C = classes.
// Bindings: 0 params {rows, classes, ignoreIndex, hasWeights}, 1 logits: f32[N, C],
//           2 targets: i32[N], 3 classWeights: f32[C] (a 1-element dummy when hasWeights = 0),
//           4 loss: f32[N], 5 weight: f32[N].
// Dispatch: one invocation per row.

override WORKGROUP_SIZE: u32 = 64;

struct Params { rows: u32, classes: u32, ignoreIndex: i32, hasWeights: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> classWeights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> weight: array<f32>;

/// log(sum_c exp(logits[base + c] - largest)) = log1p(sum over all but the first maximum).
/// A confident row has a sum barely above 1, where log(1 + rest) in f32 would keep
/// only a few digits of a loss like 2e-4; log1p keeps them all.
fn logSumExpShifted(base: u32, largest: f32) -> f32 {
  var rest = 0.0;
  var skipped = false;
  for (var c = 0u; c < params.classes; c++) {
    let shifted = logits[base + c] - largest;
    if (!skipped && shifted == 0.0) {
      skipped = true;
    } else {
      rest += exp(shifted);
    }
  }
  return log1p(rest);
}

/// log(1 + x) accurate for small x (Goldberg's trick: the rounding of 1 + x cancels out).
fn log1p(x: f32) -> f32 {
  let onePlus = 1.0 + x;
  if (onePlus == 1.0) { return x; }
  return log(onePlus) * x / (onePlus - 1.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (row >= params.rows) { return; }
  let targetClass = targets[row];
  if (targetClass == params.ignoreIndex || targetClass < 0 || u32(targetClass) >= params.classes) {
    loss[row] = 0.0;
    weight[row] = 0.0;
    return;
  }
  let base = row * params.classes;
  var largest = negativeInfinity();
  for (var c = 0u; c < params.classes; c++) { largest = max(largest, logits[base + c]); }
  // (largest - target logit) + log1p(rest) rather than logSumExp - target logit: no cancellation
  // between two nearly equal large numbers when the target is (nearly) the maximum.
  let w = select(1.0, classWeights[u32(targetClass)], params.hasWeights != 0u);
  loss[row] = w * ((largest - logits[base + u32(targetClass)]) + logSumExpShifted(base, largest));
  weight[row] = w;
}
