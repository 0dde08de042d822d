// geglu.wgsl: the GeGLU gate of ModernBERT's MLP and its gradient. x is [rows, 2 * width], each row
// [input | gate]; forward y[r, i] = gelu(input) * gate (exact erf GELU); backward, from dy [rows,
// width]: dinput = dy * gate * gelu'(input), dgate = dy * gelu(input).
// CPU reference: geglu() and gegluBackward() in src/backend/cpu/transformer.ts.
// Bindings: 0 params {size = rows * width, width}; main: 1 x, 3 y; backward: 1 x, 2 dy, 4 dx.
// Dispatch: one invocation per (row, i).

override WORKGROUP_SIZE: u32 = 256;

const SQRT1_2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;

struct Params { size: u32, width: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

/// erfc(|v|) by Numerical Recipes' Chebyshev fit, as kernels/unary.wgsl (erf in src/ops/tables/unary.ts).
fn erfcOfMagnitude(v: f32) -> f32 {
  let z = abs(v);
  let t = 1.0 / (1.0 + 0.5 * z);
  return t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/// 1 + erf(v) without cancellation in the negative tail.
fn onePlusErf(v: f32) -> f32 {
  let r = erfcOfMagnitude(v);
  return select(r, 2.0 - r, v >= 0.0);
}

fn flatIndex(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = flatIndex(id, groups);
  if (index >= params.size) { return; }
  let row = index / params.width;
  let i = index % params.width;
  let input = x[row * 2u * params.width + i];
  let gate = x[row * 2u * params.width + params.width + i];
  y[index] = 0.5 * input * onePlusErf(input * SQRT1_2) * gate;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = flatIndex(id, groups);
  if (index >= params.size) { return; }
  let row = index / params.width;
  let i = index % params.width;
  let at = row * 2u * params.width + i;
  let input = x[at];
  let gate = x[at + params.width];
  let g = dy[index];
  let cdf = 0.5 * onePlusErf(input * SQRT1_2);
  dx[at] = g * gate * (cdf + input * INV_SQRT_2PI * exp(-0.5 * input * input));
  dx[at + params.width] = g * input * cdf;
}
