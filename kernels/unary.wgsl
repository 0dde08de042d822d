// unary.wgsl: y[i] = f(x[i]) for every row of src/ops/tables/unary.ts; the op is the
// override OP, so each op compiles to its own pipeline with the switch folded away.
// Reference: the rows' `cpu` functions (src/ops/tables/unary.ts).
// Bindings: 0 params {size}, 1 x: f32[size], 2 y: f32[size].
// Dispatch: one invocation per element, ceil(size / WORKGROUP_SIZE) workgroups
// (split over x and y when above 65535).

override WORKGROUP_SIZE: u32 = 256;
// The row index in src/ops/tables/unary.ts.
override OP: u32 = 0;

struct Params { size: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const SQRT1_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

/// erfc(|v|) by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7: the formula of erf() in
/// src/ops/tables/unary.ts.
fn erfcOfMagnitude(v: f32) -> f32 {
  let z = abs(v);
  let t = 1.0 / (1.0 + 0.5 * z);
  return t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

/// 1 + erf(v), without forming erf(v) first: in the negative tail erf is -1 + tiny and
/// f32 would cancel the tiny part away (gelu(-5.4) = -2.1e-7 would lose a quarter of its value).
fn onePlusErf(v: f32) -> f32 {
  let r = erfcOfMagnitude(v);
  return select(r, 2.0 - r, v >= 0.0);
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

/// NaN: the result of an op code no row has (a WGSL switch must have a default, and it means no op).
fn notAnOp() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

/// 1 / (1 + e^-v) without e of a large positive number on either side.
fn stableSigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

/// One case per row of src/ops/tables/unary.ts (its `wgsl`), spliced in where the marker is when
/// the kernel is loaded (src/backend/webgpu/op-tables.ts); the case number is the row's op code.
fn apply(v: f32) -> f32 {
  switch OP {
    // @op-table unary
    default: { return notAnOp(); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  y[index] = apply(x[index]);
}
