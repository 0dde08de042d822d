// semi_crf_backward.wgsl: the gradient of sum_b dlogZ[b] * logZ[b] for a semi-Markov CRF by
// segment-level forward-backward (not autodiff through the recursion). A segment's marginal is
//   P(s, e, y) = exp(inbound[s,y] + segment(s,e,y) + beta[e,y] - logZ)
// with beta[n,y] = end[y], beta[e,y] = logsumexp_y'(transitions[y,y'] + outbound[e,y']) and
//   outbound[s,y] = logsumexp_d(segment(s,s+d,y) + beta[s+d,y]).
// Gradients: d emissions[t,y] = sum of P over the segments of y covering t; d lengthScores[y,d-1]
// = sum_s P(s,s+d,y); d transitions[y,y'] = sum_e exp(alpha[e-1,y] + transitions[y,y'] + outbound[e,y'] - logZ);
// d start[y] = exp(start[y] + outbound[0,y] - logZ); d end[y] = exp(alpha[n-1,y] + end[y] - logZ).
// Reference: src/backend/cpu/semi-crf.ts (semiCrfBackward). K <= 64 labels, L <= 16.
// Two entry points over one binding table:
// - sequence: one workgroup per sequence, lanes split the labels. inbound, outbound and beta go
//   to `scratch` (per sequence: inbound [T,K], outbound [T,K], beta [T+1,K]); dEmissions in place;
//   the parameter gradients of the sequence to `partials` (per sequence: transitions [K,K],
//   start [K], end [K], lengths [K,L]). Dispatch: B workgroups.
// - batch_sums: sums[i] = sum_b partials[b, i] (no atomics). Dispatch: ceil(width / WORKGROUP_SIZE).
// Bindings: 0 params {batch, steps, labels, maxLength}, 1 emissions: f32[B,T,K], 2 mask: f32[B,T],
//           3 transitions: f32[K,K], 4 start: f32[K], 5 end: f32[K], 6 lengthScores: f32[K,L],
//           7 alpha: f32[B,T,K], 8 dlogZ: f32[B], 9 scratch: f32[B,3T+1,K], 10 dEmissions: f32[B,T,K],
//           11 partials: f32[B, K*K + 2K + K*L], 12 sums: f32[K*K + 2K + K*L].

override WORKGROUP_SIZE: u32 = 64;

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
@group(0) @binding(7) var<storage, read> alpha: array<f32>;
@group(0) @binding(8) var<storage, read> dlogZ: array<f32>;
@group(0) @binding(9) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(10) var<storage, read_write> dEmissions: array<f32>;
@group(0) @binding(11) var<storage, read_write> partials: array<f32>;
@group(0) @binding(12) var<storage, read_write> sums: array<f32>;

var<workgroup> sequenceLength: u32;

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

fn width() -> u32 {
  let K = params.labels;
  return K * K + 2u * K + K * params.maxLength;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sequence(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let b = group.x;
  let K = params.labels;
  let L = params.maxLength;
  let T = params.steps;
  let base = b * T * K;
  let inboundAt = b * (3u * T + 1u) * K;
  let outboundAt = inboundAt + T * K;
  let betaAt = outboundAt + T * K;
  let partialAt = b * width();
  let g = dlogZ[b];
  if (lane == 0u) {
    var n = 1u;
    while (n < T && mask[b * T + n] != 0.0) { n++; }
    sequenceLength = n;
  }
  let n = workgroupUniformLoad(&sequenceLength);
  var accZ = LogSum(negativeInfinity(), 0.0);
  for (var y = 0u; y < K; y++) { accZ = logSumAdd(accZ, alpha[base + (n - 1u) * K + y] + end[y]); }
  let logZ = logSumValue(accZ);

  // inbound (each lane its own labels; alpha is an input) and the last beta row.
  for (var y = lane; y < K; y += WORKGROUP_SIZE) {
    scratch[inboundAt + y] = start[y];
    for (var s = 1u; s < n; s++) {
      var acc = LogSum(negativeInfinity(), 0.0);
      for (var p = 0u; p < K; p++) { acc = logSumAdd(acc, alpha[base + (s - 1u) * K + p] + transitions[p * K + y]); }
      scratch[inboundAt + s * K + y] = logSumValue(acc);
    }
    scratch[betaAt + n * K + y] = end[y];
  }
  // outbound and beta, right to left; beta[s] reads every label's outbound[s].
  for (var s = n; s > 0u; s--) {
    let at = s - 1u;
    for (var y = lane; y < K; y += WORKGROUP_SIZE) {
      var acc = LogSum(negativeInfinity(), 0.0);
      var segment = 0.0;
      for (var d = 1u; d <= min(L, n - at); d++) {
        segment += emissions[base + (at + d - 1u) * K + y];
        acc = logSumAdd(acc, segment + lengthScores[y * L + d - 1u] + scratch[betaAt + (at + d) * K + y]);
      }
      scratch[outboundAt + at * K + y] = logSumValue(acc);
    }
    storageBarrier();
    if (at > 0u) {
      for (var y = lane; y < K; y += WORKGROUP_SIZE) {
        var acc = LogSum(negativeInfinity(), 0.0);
        for (var next = 0u; next < K; next++) { acc = logSumAdd(acc, transitions[y * K + next] + scratch[outboundAt + at * K + next]); }
        scratch[betaAt + at * K + y] = logSumValue(acc);
      }
    }
    storageBarrier();
  }

  // Marginals, lane by label: every write below belongs to this lane's labels (transitions by column y').
  for (var y = lane; y < K; y += WORKGROUP_SIZE) {
    for (var t = 0u; t < T; t++) { dEmissions[base + t * K + y] = 0.0; }
    for (var d = 1u; d <= L; d++) { partials[partialAt + K * K + 2u * K + y * L + d - 1u] = 0.0; }
    for (var s = 0u; s < n; s++) {
      let maxD = min(L, n - s);
      // P(s, s+d, y) for d = maxD..1: the running sum is what covers token s + d - 1.
      var covering = 0.0;
      for (var d = maxD; d >= 1u; d--) {
        var segment = 0.0;
        for (var t = s; t < s + d; t++) { segment += emissions[base + t * K + y]; }
        let p = g * exp(scratch[inboundAt + s * K + y] + segment + lengthScores[y * L + d - 1u] + scratch[betaAt + (s + d) * K + y] - logZ);
        covering += p;
        dEmissions[base + (s + d - 1u) * K + y] += covering;
        partials[partialAt + K * K + 2u * K + y * L + d - 1u] += p;
      }
    }
    partials[partialAt + K * K + y] = g * exp(start[y] + scratch[outboundAt + y] - logZ);
    partials[partialAt + K * K + K + y] = g * exp(alpha[base + (n - 1u) * K + y] + end[y] - logZ);
    for (var p = 0u; p < K; p++) {
      var total = 0.0;
      for (var e = 1u; e < n; e++) {
        total += exp(alpha[base + (e - 1u) * K + p] + transitions[p * K + y] + scratch[outboundAt + e * K + y] - logZ);
      }
      partials[partialAt + p * K + y] = g * total;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn batch_sums(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  let w = width();
  if (i >= w) { return; }
  var total = 0.0;
  for (var b = 0u; b < params.batch; b++) { total += partials[b * w + i]; }
  sums[i] = total;
}
