// semi_crf_forward.wgsl: the segment-level forward algorithm of a semi-Markov CRF in log
// space, batched and masked. One workgroup per sequence walks the segment ends e = 1..n;
// its lanes split the labels. A segment [s, e) of label y scores
//   sum_{t in [s,e)} emissions[b,t,y] + lengthScores[y, e-s-1],
// and is entered from inbound[s,y] = start[y] (s = 0) or logsumexp_p(alpha[b,s-1,p] + transitions[p,y]):
//   alpha[b,e-1,y] = logsumexp_{d=1..min(L,e)} (inbound[e-d,y] + segment(e-d, e, y))
//   logZ[b] = logsumexp_y(alpha[b,n-1,y] + end[y]);  alpha rows past n are -Infinity.
// The last L rows of inbound live in a ring in workgroup memory; a lane reads only its own
// labels' entries, so only the alpha row needs a barrier.
// Reference: src/backend/cpu/semi-crf.ts (semiCrfForward). K <= 64 labels, L <= 16.
// Bindings: 0 params {batch, steps, labels, maxLength}, 1 emissions: f32[B,T,K], 2 mask: f32[B,T],
//           3 transitions: f32[K,K], 4 start: f32[K], 5 end: f32[K], 6 lengthScores: f32[K,L],
//           7 logZ: f32[B], 8 alpha: f32[B,T,K].
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
@group(0) @binding(7) var<storage, read_write> logZ: array<f32>;
@group(0) @binding(8) var<storage, read_write> alpha: array<f32>;

var<workgroup> previous: array<f32, MAX_LABELS>; // alpha[b, e-2, .]
var<workgroup> inboundRing: array<f32, 1024>; // [MAX_SEGMENT][MAX_LABELS]: inbound[s, y] at (s % MAX_SEGMENT)
var<workgroup> sequenceLength: u32;

/// A running logsumexp (max, sum of exp(x - max)); -Infinity terms are skipped.
struct LogSum { top: f32, total: f32 }
fn logSumAdd(acc: LogSum, x: f32) -> LogSum {
  if (x == negativeInfinity()) { return acc; }
  if (x > acc.top) { return LogSum(x, acc.total * exp(acc.top - x) + 1.0); }
  return LogSum(acc.top, acc.total + exp(x - acc.top));
}
fn logSumValue(acc: LogSum) -> f32 {
  if (acc.top == negativeInfinity()) { return negativeInfinity(); }
  return acc.top + log(acc.total);
}

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
      var inbound = start[y];
      if (s0 > 0u) {
        var acc = LogSum(negativeInfinity(), 0.0);
        for (var p = 0u; p < K; p++) { acc = logSumAdd(acc, previous[p] + transitions[p * K + y]); }
        inbound = logSumValue(acc);
      }
      inboundRing[(s0 % MAX_SEGMENT) * MAX_LABELS + y] = inbound;
      var acc = LogSum(negativeInfinity(), 0.0);
      var segment = 0.0;
      for (var d = 1u; d <= min(L, e); d++) {
        let s = e - d;
        segment += emissions[base + s * K + y];
        acc = logSumAdd(acc, inboundRing[(s % MAX_SEGMENT) * MAX_LABELS + y] + segment + lengthScores[y * L + d - 1u]);
      }
      alpha[base + (e - 1u) * K + y] = logSumValue(acc);
    }
    workgroupBarrier();
    storageBarrier();
    for (var y = lane; y < K; y += WORKGROUP_SIZE) { previous[y] = alpha[base + (e - 1u) * K + y]; }
    workgroupBarrier();
  }
  for (var i = n * K + lane; i < T * K; i += WORKGROUP_SIZE) { alpha[base + i] = negativeInfinity(); }
  if (lane == 0u) {
    var acc = LogSum(negativeInfinity(), 0.0);
    for (var y = 0u; y < K; y++) { acc = logSumAdd(acc, previous[y] + end[y]); }
    logZ[b] = logSumValue(acc);
  }
}
