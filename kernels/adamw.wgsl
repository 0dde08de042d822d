// adamw.wgsl: one AdamW step in place, as torch.optim.AdamW: decoupled weight
// decay p -= lr * wd * p, then the bias-corrected Adam update.
// Reference: src/backend/cpu/fused.ts (adamw).
// Bindings: 0 params {size, lr, beta1, beta2, eps, weightDecay, correction1 = 1 - beta1^step,
//           correction2 = 1 - beta2^step}, 1 param: f32 (in place), 2 grad: f32,
//           3 m: f32 (in place), 4 v: f32 (in place); all [size].
// Dispatch: one invocation per element.

override WORKGROUP_SIZE: u32 = 256;

struct Params {
  size: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  correction1: f32,
  correction2: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  let g = grad[index];
  var p = param[index];
  p -= params.lr * params.weightDecay * p;
  let firstMoment = params.beta1 * m[index] + (1.0 - params.beta1) * g;
  let secondMoment = params.beta2 * v[index] + (1.0 - params.beta2) * g * g;
  m[index] = firstMoment;
  v[index] = secondMoment;
  p -= (params.lr * (firstMoment / params.correction1)) / (sqrt(secondMoment / params.correction2) + params.eps);
  param[index] = p;
}
