// layer_norm.wgsl: LayerNorm over the last axis of x [N, D], saving the per-row mean
// and reciprocal std for the backward pass (two-pass variance, as the CPU backend).
// Reference: src/backend/cpu/fused.ts (layerNorm). N = rows, D = dim.
// Bindings: 0 params {rows, dim, eps}, 1 x: f32[N, D], 2 gamma: f32[D], 3 beta: f32[D],
//           4 y: f32[N, D], 5 mean: f32[N], 6 rstd: f32[N].
// Dispatch: one invocation per row.

override WORKGROUP_SIZE: u32 = 64;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (row >= params.rows) { return; }
  let dim = params.dim;
  let base = row * dim;
  var total = 0.0;
  for (var d = 0u; d < dim; d++) { total += x[base + d]; }
  let mu = total / f32(dim);
  var squares = 0.0;
  for (var d = 0u; d < dim; d++) {
    let centred = x[base + d] - mu;
    squares += centred * centred;
  }
  let inverse = 1.0 / sqrt(squares / f32(dim) + params.eps);
  mean[row] = mu;
  rstd[row] = inverse;
  for (var d = 0u; d < dim; d++) {
    y[base + d] = (x[base + d] - mu) * inverse * gamma[d] + beta[d];
  }
}
