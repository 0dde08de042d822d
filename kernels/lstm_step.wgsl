// lstm_step.wgsl: one time step of one LSTM direction over a packed batch (PyTorch's
// PackedSequence: rows time-major, step t holds n rows, row i of step t continues row i
// of step t-1), gate order i, f, g, o:
//   pre = xProj[r] + (hasPrev ? recurrent[i] : 0),  recurrent = h[prev rows] W_hh^T
//   (a matmul beforehand), c[r] = f * (hasPrev ? c[p] : 0) + i * g,  h[r] = o * tanh(c[r]);
// the activated gates are saved in act[r] for backward. r = rowOffset + i, p = prevOffset + i.
// Reference: src/backend/cpu/lstm.ts (lstmForward). N = packed rows, H = hidden, n = rows.
// Bindings: 0 params {rows = n, hidden, rowOffset, prevOffset, hasPrev},
//           1 xProj: f32[N, 4H], 2 recurrent: f32[n, 4H] (unread when hasPrev = 0: any
//           read-only buffer, e.g. xProj again), 3 h: f32[N, H], 4 c: f32[N, H], 5 act: f32[N, 4H].
// Dispatch: one invocation per (i, j), n * H in all.

override WORKGROUP_SIZE: u32 = 64;

struct Params { rows: u32, hidden: u32, rowOffset: u32, prevOffset: u32, hasPrev: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xProj: array<f32>;
@group(0) @binding(2) var<storage, read> recurrent: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> act: array<f32>;

fn sigmoid(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-v));
}

/// tanh that keeps its relative precision near 0, where llvmpipe's builtin loses digits
/// (1e-3 relative at 1e-5: it cancels e^x - e^-x); the series is exact to f32 below 0.05.
/// Beyond |15| tanh is +-1 in f32; clamping avoids inf/inf inside some builtins.
fn accurateTanh(v: f32) -> f32 {
  if (abs(v) < 0.05) {
    let square = v * v;
    return v * (1.0 - square * (1.0 / 3.0 - square * (2.0 / 15.0)));
  }
  return tanh(clamp(v, -15.0, 15.0));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let flat = id.x + id.y * groups.x * WORKGROUP_SIZE;
  let hidden = params.hidden;
  if (flat >= params.rows * hidden) { return; }
  let i = flat / hidden;
  let j = flat % hidden;
  let row = params.rowOffset + i;
  let x0 = row * 4u * hidden;
  var pre = vec4f(xProj[x0 + j], xProj[x0 + hidden + j], xProj[x0 + 2u * hidden + j], xProj[x0 + 3u * hidden + j]);
  var cPrev = 0.0;
  if (params.hasPrev != 0u) {
    let r0 = i * 4u * hidden;
    pre += vec4f(recurrent[r0 + j], recurrent[r0 + hidden + j], recurrent[r0 + 2u * hidden + j], recurrent[r0 + 3u * hidden + j]);
    cPrev = c[(params.prevOffset + i) * hidden + j];
  }
  let inputGate = sigmoid(pre.x);
  let forgetGate = sigmoid(pre.y);
  let candidate = accurateTanh(pre.z);
  let outputGate = sigmoid(pre.w);
  let cell = forgetGate * cPrev + inputGate * candidate;
  act[x0 + j] = inputGate;
  act[x0 + hidden + j] = forgetGate;
  act[x0 + 2u * hidden + j] = candidate;
  act[x0 + 3u * hidden + j] = outputGate;
  let s = row * hidden + j;
  c[s] = cell;
  h[s] = outputGate * accurateTanh(cell);
}
