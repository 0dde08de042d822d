// semi_crf_viterbi.wgsl: the best segmentation of each sequence under a semi-Markov CRF, with
// the backtracking on the device. The forward recursion with max in place of logsumexp:
//   best[e-1,y] = max_{d=1..min(L,e)} (enter[e-d,y] + segment(e-d, e, y)),
//   enter[s,y] = start[y] (s = 0) or max_p(best[s-1,p] + transitions[p,y]).
// One workgroup per sequence, lanes split the labels; the last L rows of enter and of its argmax
// live in rings in workgroup memory. backpointers[b,e-1,y] packs the best (d, p) as
// (d-1) * (K+1) + (p+1); lane 0 follows them from the best last label and writes one code per
// token: y where a segment begins, y + K inside it, 0 past the mask. Ties go to the shortest
// segment, then the lowest label.
// Reference: src/backend/cpu/semi-crf.ts (semiCrfViterbi). K <= 64 labels, L <= 16.
// Bindings: 0 params {batch, steps, labels, maxLength}, 1 emissions: f32[B,T,K], 2 mask: f32[B,T],
//           3 transitions: f32[K,K], 4 start: f32[K], 5 end: f32[K], 6 lengthScores: f32[K,L],
//           7 backpointers: i32[B,T,K] (scratch), 8 labels: i32[B,T], 9 score: f32[B].
// Dispatch: B workgroups.

override WORKGROUP_SIZE: u32 = 64;
const MAX_LABELS: u32 = 64u;
const MAX_SEGMENT: u32 = 16u;

struct Params { batch: u32, steps: u32, labels: u32, maxLength: u32 }

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
@group(0) @binding(6) var<storage, read> lengthScores: array<f32>;
@group(0) @binding(7) var<storage, read_write> backpointers: array<i32>;
@group(0) @binding(8) var<storage, read_write> labels: array<i32>;
@group(0) @binding(9) var<storage, read_write> score: array<f32>;

var<workgroup> previous: array<f32, MAX_LABELS>; // best[e-2, .]
var<workgroup> current: array<f32, MAX_LABELS>;
var<workgroup> enterRing: array<f32, 1024>; // [MAX_SEGMENT][MAX_LABELS]
var<workgroup> enterFrom: array<i32, 1024>;
var<workgroup> sequenceLength: u32;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = group.x;
  let K = params.labels;
  let L = params.maxLength;
  let T = params.steps;
  let base = b * T * K;
  if (lane == 0u) {
    var n = 1u;
    while (n < T && mask[b * T + n] != 0.0) { n++; }
    sequenceLength = n;
  }
  let n = workgroupUniformLoad(&sequenceLength);
  for (var e = 1u; e <= n; e++) {
    let s0 = e - 1u;
    for (var y = lane; y < K; y += WORKGROUP_SIZE) {
      var enter = start[y];
      var origin = -1;
      if (s0 > 0u) {
        enter = negativeInfinity();
        for (var p = 0u; p < K; p++) {
          let v = previous[p] + transitions[p * K + y];
          if (v > enter) { enter = v; origin = i32(p); }
        }
      }
      let slot = (s0 % MAX_SEGMENT) * MAX_LABELS + y;
      enterRing[slot] = enter;
      enterFrom[slot] = origin;
      var top = negativeInfinity();
      var packed = 0;
      var segment = 0.0;
      for (var d = 1u; d <= min(L, e); d++) {
        let s = e - d;
        segment += emissions[base + s * K + y];
        let at = (s % MAX_SEGMENT) * MAX_LABELS + y;
        let v = enterRing[at] + segment + lengthScores[y * L + d - 1u];
        if (v > top) { top = v; packed = i32(d - 1u) * i32(K + 1u) + enterFrom[at] + 1; }
      }
      current[y] = top;
      backpointers[base + (e - 1u) * K + y] = packed;
    }
    workgroupBarrier();
    for (var y = lane; y < K; y += WORKGROUP_SIZE) { previous[y] = current[y]; }
    workgroupBarrier();
  }
  storageBarrier();
  if (lane == 0u) {
    var top = negativeInfinity();
    var y = 0u;
    for (var k = 0u; k < K; k++) {
      let v = previous[k] + end[k];
      if (v > top) { top = v; y = k; }
    }
    score[b] = top;
    for (var t = n; t < T; t++) { labels[b * T + t] = 0; }
    var e = n;
    loop {
      if (e == 0u) { break; }
      let packed = backpointers[base + (e - 1u) * K + y];
      let d = u32(packed) / (K + 1u) + 1u;
      let origin = i32(u32(packed) % (K + 1u)) - 1;
      for (var t = e - d; t < e; t++) { labels[b * T + t] = select(i32(y + K), i32(y), t == e - d); }
      e -= d;
      y = u32(max(origin, 0));
    }
  }
}
