// window_bias.wgsl: the additive attention bias of sliding-window attention, as Hugging Face
// ModernBERT's _update_attention_mask builds it: bias[b, i, j] = 0 where key j is real
// (mask[b, j] = 1) and |i - j| <= halfWindow, `masked` (float32's lowest value) elsewhere.
// CPU reference: windowBias() in src/backend/cpu/transformer.ts.
// Bindings: 0 params {size = batch * length * length, length, halfWindow, masked},
// 1 mask: f32[batch * length], 2 bias: f32[batch * length * length].
// Dispatch: one invocation per entry.

override WORKGROUP_SIZE: u32 = 256;

struct Params { size: u32, length: u32, halfWindow: u32, masked: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> bias: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let index = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (index >= params.size) { return; }
  let j = index % params.length;
  let i = (index / params.length) % params.length;
  let b = index / (params.length * params.length);
  let distance = max(i, j) - min(i, j);
  let attended = mask[b * params.length + j] == 1.0 && distance <= params.halfWindow;
  bias[index] = select(params.masked, 0.0, attended);
}
