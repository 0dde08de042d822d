// layer_norm_backward.wgsl: gradients of LayerNorm, given the saved mean and rstd.
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * gamma
//   dgamma = sum over rows of dy * xhat,  dbeta = sum over rows of dy
// Reference: src/backend/cpu/fused.ts (layerNormBackward). N = rows, D = dim.
// Two entry points over one binding table:
// - input_grad: one invocation per row, writes dx. Dispatch: ceil(N / WORKGROUP_SIZE).
// - param_grads: one invocation per feature d, sums over rows (no atomics needed),
//   writes dgamma and dbeta. Dispatch: ceil(D / WORKGROUP_SIZE).
// Bindings: 0 params {rows, dim}, 1 dy: f32[N, D], 2 x: f32[N, D], 3 gamma: f32[D],
//           4 mean: f32[N], 5 rstd: f32[N], 6 dx: f32[N, D], 7 dgamma: f32[D], 8 dbeta: f32[D].

override WORKGROUP_SIZE: u32 = 64;

struct Params { rows: u32, dim: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn input_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (row >= params.rows) { return; }
  let dim = params.dim;
  let base = row * dim;
  let mu = mean[row];
  let inverse = rstd[row];
  var meanDxhat = 0.0;
  var meanDxhatXhat = 0.0;
  for (var d = 0u; d < dim; d++) {
    let xhat = (x[base + d] - mu) * inverse;
    let dxhat = dy[base + d] * gamma[d];
    meanDxhat += dxhat;
    meanDxhatXhat += dxhat * xhat;
  }
  meanDxhat /= f32(dim);
  meanDxhatXhat /= f32(dim);
  for (var d = 0u; d < dim; d++) {
    let xhat = (x[base + d] - mu) * inverse;
    dx[base + d] = inverse * (dy[base + d] * gamma[d] - meanDxhat - xhat * meanDxhatXhat);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn param_grads(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let d = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (d >= params.dim) { return; }
  var gammaGrad = 0.0;
  var betaGrad = 0.0;
  for (var row = 0u; row < params.rows; row++) {
    let g = dy[row * params.dim + d];
    gammaGrad += g * (x[row * params.dim + d] - mean[row]) * rstd[row];
    betaGrad += g;
  }
  dgamma[d] = gammaGrad;
  dbeta[d] = betaGrad;
}
