// crf_backward.wgsl: the gradient of sum_b dlogZ[b] * logZ[b] by forward-backward
// marginals (not autodiff through the recursion):
//   d/d emissions[b,t,j] = dlogZ[b] * P(y_t = j) = dlogZ[b] * exp(alpha + beta - logZ)
//   d/d transitions[i,j] = sum_b dlogZ[b] sum_t P(y_{t-1} = i, y_t = j)
//   d/d start[j] = sum_b dlogZ[b] P(y_0 = j),  d/d end[j] = sum_b dlogZ[b] P(y_last = j)
// beta[b,t,i] = logsumexp_j(transitions[i,j] + emissions[b,t+1,j] + beta[b,t+1,j]),
// beta[b,T-1,i] = end[i]; a masked step t+1 carries beta[b,t+1] back unchanged.
// Reference: src/backend/cpu/crf.ts (crfBackward). B = batch, T = steps, C = tags (C <= 256).
// Three entry points, dispatched in this order over one binding table:
// - sequence: one workgroup per sequence; logZ again from alpha's last row, beta
//   right to left (kept in `beta` for the next passes), dEmissions. Dispatch: B workgroups.
// - transition_grads: one invocation per (i, j), sums pairwise marginals over b and t
//   (a sum over the batch without atomics). Dispatch: ceil(C*C / WORKGROUP_SIZE).
// - boundary_grads: one invocation per tag j: dStart, dEnd. Dispatch: ceil(C / WORKGROUP_SIZE).
// Bindings: 0 params {batch, steps, tags}, 1 emissions: f32[B,T,C], 2 mask: f32[B,T],
//           3 transitions: f32[C,C], 4 start: f32[C], 5 end: f32[C], 6 alpha: f32[B,T,C],
//           7 dlogZ: f32[B], 8 beta: f32[B,T,C] (scratch), 9 logZ: f32[B] (scratch),
//           10 dEmissions: f32[B,T,C], 11 dTransitions: f32[C,C], 12 dStart: f32[C], 13 dEnd: f32[C].

override WORKGROUP_SIZE: u32 = 64;
const MAX_TAGS: u32 = 256u;

struct Params { batch: u32, steps: u32, tags: u32 }

/// -Infinity. WGSL constant expressions cannot hold infinities, so the bits go through a var.
fn negativeInfinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> emissions: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> transitions: array<f32>;
@group(0) @binding(4) var<storage, read> start: array<f32>;
@group(0) @binding(5) var<storage, read> end: array<f32>;
@group(0) @binding(6) var<storage, read> alpha: array<f32>;
@group(0) @binding(7) var<storage, read> dlogZ: array<f32>;
@group(0) @binding(8) var<storage, read_write> beta: array<f32>;
@group(0) @binding(9) var<storage, read_write> logZ: array<f32>;
@group(0) @binding(10) var<storage, read_write> dEmissions: array<f32>;
@group(0) @binding(11) var<storage, read_write> dTransitions: array<f32>;
@group(0) @binding(12) var<storage, read_write> dStart: array<f32>;
@group(0) @binding(13) var<storage, read_write> dEnd: array<f32>;

var<workgroup> later: array<f32, MAX_TAGS>;   // beta at step t
var<workgroup> earlier: array<f32, MAX_TAGS>; // beta at step t-1, being computed
var<workgroup> sequenceLogZ: f32;

/// logsumexp_j(transitions[i,j] + emissions[row + j] + later[j]), -inf-safe.
fn outgoing(i: u32, row: u32) -> f32 {
  let tags = params.tags;
  var largest = negativeInfinity();
  for (var j = 0u; j < tags; j++) { largest = max(largest, transitions[i * tags + j] + emissions[row + j] + later[j]); }
  if (largest == negativeInfinity()) { return negativeInfinity(); }
  var total = 0.0;
  for (var j = 0u; j < tags; j++) { total += exp(transitions[i * tags + j] + emissions[row + j] + later[j] - largest); }
  return largest + log(total);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sequence(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = group.x;
  let tags = params.tags;
  let steps = params.steps;
  let base = b * steps * tags;
  let lastRow = base + (steps - 1u) * tags; // masked steps carried alpha here from the last real token
  if (lane == 0u) {
    var largest = negativeInfinity();
    for (var j = 0u; j < tags; j++) { largest = max(largest, alpha[lastRow + j] + end[j]); }
    var total = 0.0;
    for (var j = 0u; j < tags; j++) { total += exp(alpha[lastRow + j] + end[j] - largest); }
    let value = select(largest + log(total), negativeInfinity(), largest == negativeInfinity());
    sequenceLogZ = value;
    logZ[b] = value;
  }
  for (var j = lane; j < tags; j += WORKGROUP_SIZE) { later[j] = end[j]; }
  workgroupBarrier();
  let normaliser = sequenceLogZ;
  let g = dlogZ[b];
  for (var step = 0u; step < steps; step++) {
    let t = steps - 1u - step;
    let row = base + t * tags;
    let isActive = t == 0u || mask[b * steps + t] != 0.0;
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) {
      beta[row + j] = later[j];
      dEmissions[row + j] = select(0.0, g * exp(alpha[row + j] + later[j] - normaliser), isActive);
      // beta at t-1: carried when step t is masked.
      if (t > 0u) { earlier[j] = select(later[j], outgoing(j, row), isActive); }
    }
    workgroupBarrier();
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) { later[j] = earlier[j]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn transition_grads(@builtin(global_invocation_id) id: vec3u) {
  let tags = params.tags;
  let flat = id.x;
  if (flat >= tags * tags) { return; }
  let i = flat / tags;
  let j = flat % tags;
  let steps = params.steps;
  var total = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    let g = dlogZ[b];
    let normaliser = logZ[b];
    let base = b * steps * tags;
    for (var t = 1u; t < steps; t++) {
      if (mask[b * steps + t] == 0.0) { continue; }
      let row = base + t * tags;
      total += g * exp(alpha[row - tags + i] + transitions[flat] + emissions[row + j] + beta[row + j] - normaliser);
    }
  }
  dTransitions[flat] = total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn boundary_grads(@builtin(global_invocation_id) id: vec3u) {
  let j = id.x;
  let tags = params.tags;
  if (j >= tags) { return; }
  let steps = params.steps;
  var startGrad = 0.0;
  var endGrad = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    let g = dlogZ[b];
    let normaliser = logZ[b];
    let base = b * steps * tags;
    startGrad += g * exp(start[j] + emissions[base + j] + beta[base + j] - normaliser);
    endGrad += g * exp(alpha[base + (steps - 1u) * tags + j] + end[j] - normaliser);
  }
  dStart[j] = startGrad;
  dEnd[j] = endGrad;
}
