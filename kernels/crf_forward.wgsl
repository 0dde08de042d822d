// crf_forward.wgsl: the forward algorithm of a linear-chain CRF in log space,
// batched and masked. One workgroup per sequence walks the time steps; its lanes
// split the tags, and the previous step's alpha lives in workgroup memory.
//   alpha[b,0,j] = start[j] + emissions[b,0,j]
//   alpha[b,t,j] = logsumexp_i(alpha[b,t-1,i] + transitions[i,j]) + emissions[b,t,j]
//   (a masked step carries alpha[b,t-1] forward unchanged, as pytorch-crf's torch.where)
//   logZ[b] = logsumexp_j(alpha[b,T-1,j] + end[j])
// Reference: src/backend/cpu/crf.ts (crfForward). B = batch, T = steps, C = tags (C <= 256).
// Bindings: 0 params {batch, steps, tags}, 1 emissions: f32[B,T,C], 2 mask: f32[B,T],
//           3 transitions: f32[C,C] (i -> j at i*C + j), 4 start: f32[C], 5 end: f32[C],
//           6 logZ: f32[B], 7 alpha: f32[B,T,C].
// Dispatch: B workgroups of WORKGROUP_SIZE lanes.

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
@group(0) @binding(6) var<storage, read_write> logZ: array<f32>;
@group(0) @binding(7) var<storage, read_write> alpha: array<f32>;

var<workgroup> previous: array<f32, MAX_TAGS>;
var<workgroup> current: array<f32, MAX_TAGS>;

/// logsumexp_i(previous[i] + transitions[i, j]); -inf when every term is (no NaN from -inf - -inf).
fn incoming(j: u32) -> f32 {
  let tags = params.tags;
  var largest = negativeInfinity();
  for (var i = 0u; i < tags; i++) { largest = max(largest, previous[i] + transitions[i * tags + j]); }
  if (largest == negativeInfinity()) { return negativeInfinity(); }
  var total = 0.0;
  for (var i = 0u; i < tags; i++) { total += exp(previous[i] + transitions[i * tags + j] - largest); }
  return largest + log(total);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = group.x;
  let tags = params.tags;
  let steps = params.steps;
  let base = b * steps * tags;
  for (var j = lane; j < tags; j += WORKGROUP_SIZE) {
    let value = start[j] + emissions[base + j];
    previous[j] = value;
    alpha[base + j] = value;
  }
  workgroupBarrier();
  for (var t = 1u; t < steps; t++) {
    let isActive = mask[b * steps + t] != 0.0;
    let row = base + t * tags;
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) {
      var value = previous[j];
      if (isActive) { value = incoming(j) + emissions[row + j]; }
      current[j] = value;
      alpha[row + j] = value;
    }
    workgroupBarrier();
    for (var j = lane; j < tags; j += WORKGROUP_SIZE) { previous[j] = current[j]; }
    workgroupBarrier();
  }
  if (lane == 0u) {
    var largest = negativeInfinity();
    for (var j = 0u; j < tags; j++) { largest = max(largest, previous[j] + end[j]); }
    var total = 0.0;
    for (var j = 0u; j < tags; j++) { total += exp(previous[j] + end[j] - largest); }
    logZ[b] = select(largest + log(total), negativeInfinity(), largest == negativeInfinity());
  }
}
