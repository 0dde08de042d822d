// lstm_cell.wgsl: one LSTM step from the gate pre-activations (x W_ih^T + h W_hh^T + b,
// computed by matmuls beforehand), PyTorch gate order i, f, g, o:
//   c = f * cPrev + i * g,  h = o * tanh(c); the activated gates are saved for backward.
// Reference: src/backend/cpu/fused.ts (lstmCell). B = batch, H = hidden.
// Bindings: 0 params {batch, hidden}, 1 gates: f32[B, 4H], 2 cPrev: f32[B, H],
//           3 h: f32[B, H], 4 c: f32[B, H], 5 act: f32[B, 4H].
// Dispatch: one invocation per (b, j), B * H in all.

override WORKGROUP_SIZE: u32 = 64;

struct Params { batch: u32, hidden: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> cPrev: array<f32>;
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
  if (flat >= params.batch * hidden) { return; }
  let b = flat / hidden;
  let j = flat % hidden;
  let g0 = b * 4u * hidden;
  let inputGate = sigmoid(gates[g0 + j]);
  let forgetGate = sigmoid(gates[g0 + hidden + j]);
  let candidate = accurateTanh(gates[g0 + 2u * hidden + j]);
  let outputGate = sigmoid(gates[g0 + 3u * hidden + j]);
  let cell = forgetGate * cPrev[flat] + inputGate * candidate;
  act[g0 + j] = inputGate;
  act[g0 + hidden + j] = forgetGate;
  act[g0 + 2u * hidden + j] = candidate;
  act[g0 + 3u * hidden + j] = outputGate;
  c[flat] = cell;
  h[flat] = outputGate * accurateTanh(cell);
}
