// fill.wgsl: y[i] = value (Backend.fill; zeros use the queue's clearBuffer instead).
// Bindings: 0 params {size, value}, 1 y: f32[size].
// Dispatch: one invocation per element.

override WORKGROUP_SIZE: u32 = 256;

struct Params { size: u32, value: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  y[index] = params.value;
}
