// layer_norm_rows.wgsl: LayerNorm over the last axis of x [N, D] for real GPUs: one
// workgroup per row, lanes stride along the row and combine their partial sums in
// workgroup memory (two-pass variance, as layer_norm.wgsl and the CPU backend).
// WORKGROUP_SIZE must be a power of two. layer_norm.wgsl (one invocation per row)
// serves software adapters; both save the same mean and rstd for the backward pass.
// Reference: src/backend/cpu/fused.ts (layerNorm). N = rows, D = dim.
// Bindings: 0 params {rows, dim, eps}, 1 x: f32[N, D], 2 gamma: f32[D], 3 beta: f32[D],
//           4 y: f32[N, D], 5 mean: f32[N], 6 rstd: f32[N].
// Dispatch: one workgroup per row (rows past 65535 spill into y).

override WORKGROUP_SIZE: u32 = 256;

struct Params { rows: u32, dim: u32, eps: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

/// The sum of every lane's `value`, left in partial[0]. (The caller reads it at top
/// level: read inside here and returned, llvmpipe let some lanes see the next
/// reduction's writes.)
fn sumOverLanes(lane: u32, value: f32) {
  partial[lane] = value;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lane < width) { partial[lane] += partial[lane + width]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) lane: u32) {
  let row = group.x + group.y * groups.x;
  if (row >= params.rows) { return; }
  let dim = params.dim;
  let base = row * dim;
  var total = 0.0;
  for (var d = lane; d < dim; d += WORKGROUP_SIZE) { total += x[base + d]; }
  sumOverLanes(lane, total);
  let mu = partial[0] / f32(dim);
  // Every lane reads the sum before any lane overwrites partial for the next one.
  workgroupBarrier();
  var squares = 0.0;
  for (var d = lane; d < dim; d += WORKGROUP_SIZE) {
    let centred = x[base + d] - mu;
    squares += centred * centred;
  }
  sumOverLanes(lane, squares);
  let inverse = 1.0 / sqrt(partial[0] / f32(dim) + params.eps);
  if (lane == 0u) {
    mean[row] = mu;
    rstd[row] = inverse;
  }
  for (var d = lane; d < dim; d += WORKGROUP_SIZE) {
    y[base + d] = (x[base + d] - mu) * inverse * gamma[d] + beta[d];
  }
}
