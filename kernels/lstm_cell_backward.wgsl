// lstm_cell_backward.wgsl: gradients of one LSTM step w.r.t. the gate pre-activations
// and the previous cell state, from the saved activated gates (i, f, g, o) and c.
// Reference: src/backend/cpu/fused.ts (lstmCellBackward). B = batch, H = hidden.
// Bindings: 0 params {batch, hidden}, 1 dh: f32[B, H], 2 dc: f32[B, H], 3 act: f32[B, 4H],
//           4 cPrev: f32[B, H], 5 c: f32[B, H], 6 dGates: f32[B, 4H], 7 dcPrev: f32[B, H].
// Dispatch: one invocation per (b, j).

override WORKGROUP_SIZE: u32 = 64;

struct Params { batch: u32, hidden: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dh: array<f32>;
@group(0) @binding(2) var<storage, read> dc: array<f32>;
@group(0) @binding(3) var<storage, read> act: array<f32>;
@group(0) @binding(4) var<storage, read> cPrev: array<f32>;
@group(0) @binding(5) var<storage, read> c: array<f32>;
@group(0) @binding(6) var<storage, read_write> dGates: array<f32>;
@group(0) @binding(7) var<storage, read_write> dcPrev: array<f32>;

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
  if (flat >= params.batch * hidden) { return; }
  let b = flat / hidden;
  let j = flat % hidden;
  let g0 = b * 4u * hidden;
  let inputGate = act[g0 + j];
  let forgetGate = act[g0 + hidden + j];
  let candidate = act[g0 + 2u * hidden + j];
  let outputGate = act[g0 + 3u * hidden + j];
  let tanhCell = accurateTanh(c[flat]);
  let dcTotal = dc[flat] + dh[flat] * outputGate * (1.0 - tanhCell * tanhCell);
  dGates[g0 + j] = dcTotal * candidate * inputGate * (1.0 - inputGate);
  dGates[g0 + hidden + j] = dcTotal * cPrev[flat] * forgetGate * (1.0 - forgetGate);
  dGates[g0 + 2u * hidden + j] = dcTotal * inputGate * (1.0 - candidate * candidate);
  dGates[g0 + 3u * hidden + j] = dh[flat] * tanhCell * outputGate * (1.0 - outputGate);
  dcPrev[flat] = dcTotal * forgetGate;
}
