// lstm_step_backward.wgsl: one time step of backpropagation through time for lstm_step.wgsl,
// from the saved activated gates (i, f, g, o) and c. Steps run last to first; the gradients
// carried from step t+1 cover only its carriedRows rows (a prefix of this step's n):
//   dhv = dh[r] + (i < carriedRows ? dhRec[i] : 0),  dcv = (i < carriedRows ? dcCarry[i] : 0)
//   dcTotal = dcv + dhv * o * (1 - tanh(c[r])^2),  dxProj[r] = the four gate gradients,
//   dcCarry[i] = dcTotal * f (for step t-1). r = rowOffset + i, p = prevOffset + i.
// dhRec for step t-1 is dxProj[this step's rows] W_hh, a matmul afterwards.
// Reference: src/backend/cpu/lstm.ts (lstmBackward). N = packed rows, H = hidden, n = rows.
// Bindings: 0 params {rows = n, hidden, rowOffset, prevOffset, hasPrev, carriedRows},
//           1 dh: f32[N, H], 2 dhRec: f32[carriedRows, H] (unread when carriedRows = 0: any
//           read-only buffer, e.g. dh again), 3 act: f32[N, 4H], 4 c: f32[N, H],
//           5 dxProj: f32[N, 4H], 6 dcCarry: f32[>= n, H], updated in place (each invocation
//           reads and writes only its own element; rows >= carriedRows are not read).
// Dispatch: one invocation per (i, j), n * H in all.

override WORKGROUP_SIZE: u32 = 64;

struct Params { rows: u32, hidden: u32, rowOffset: u32, prevOffset: u32, hasPrev: u32, carriedRows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dh: array<f32>;
@group(0) @binding(2) var<storage, read> dhRec: array<f32>;
@group(0) @binding(3) var<storage, read> act: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> dxProj: array<f32>;
@group(0) @binding(6) var<storage, read_write> dcCarry: array<f32>;

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
  let s = row * hidden + j;
  let g0 = row * 4u * hidden;
  var dhTotal = dh[s];
  var dcCarried = 0.0;
  if (i < params.carriedRows) {
    dhTotal += dhRec[flat];
    dcCarried = dcCarry[flat];
  }
  var cPrev = 0.0;
  if (params.hasPrev != 0u) {
    cPrev = c[(params.prevOffset + i) * hidden + j];
  }
  let inputGate = act[g0 + j];
  let forgetGate = act[g0 + hidden + j];
  let candidate = act[g0 + 2u * hidden + j];
  let outputGate = act[g0 + 3u * hidden + j];
  let tanhCell = accurateTanh(c[s]);
  let dcTotal = dcCarried + dhTotal * outputGate * (1.0 - tanhCell * tanhCell);
  dxProj[g0 + j] = dcTotal * candidate * inputGate * (1.0 - inputGate);
  dxProj[g0 + hidden + j] = dcTotal * cPrev * forgetGate * (1.0 - forgetGate);
  dxProj[g0 + 2u * hidden + j] = dcTotal * inputGate * (1.0 - candidate * candidate);
  dxProj[g0 + 3u * hidden + j] = dhTotal * tanhCell * outputGate * (1.0 - outputGate);
  dcCarry[flat] = dcTotal * forgetGate;
}
