// add_inplace.wgsl: a[i] += b[i], the gradient accumulation of the autograd tape.
// Bindings: 0 params {size}, 1 a: f32[size] (updated in place), 2 b: f32[size].
// Dispatch: one invocation per element.

override WORKGROUP_SIZE: u32 = 256;

struct Params { size: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  a[index] = a[index] + b[index];
}
