// index_add.wgsl: y = zeros([outer, rows, inner]); y[o, index[j], i] += grad[o, j, i]:
// the backward of index_select (embedding gradients). Floats have no atomic add in
// WGSL, and one invocation per destination looping over all j costs
// rows * inner * count (30522 * 768 * 4096 for a BERT vocabulary), so the
// repeated indices are linked into chains instead:
// - link (one invocation per j): next[j] = the next j' > j with the same index
//   (-1 if none), first[j] = 1 if no j' < j has it. O(count^2) comparisons of
//   integers, no floats.
// - accumulate (one invocation per (o, j, i)): where j is the first of its chain,
//   walk the chain in order and store the sum; every other invocation returns.
//   Sums are taken in index order, so the result is deterministic.
// Rows no index names keep the zeros the host cleared. Out-of-range indices are skipped.
// Reference: src/backend/cpu/fused.ts (indexAdd).
// Bindings: 0 params {outer, rows, inner, count}, 1 grad: f32[outer, count, inner],
//           2 index: i32[count], 3 next: i32[count], 4 first: u32[count], 5 y: f32[outer, rows, inner].
// Dispatch: link: ceil(count / WORKGROUP_SIZE); accumulate: ceil(outer * count * inner / WORKGROUP_SIZE).

override WORKGROUP_SIZE: u32 = 256;

struct Params { outer: u32, rows: u32, inner: u32, count: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> next: array<i32>;
@group(0) @binding(4) var<storage, read_write> first: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn link(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let j = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (j >= params.count) { return; }
  let row = index[j];
  var isFirst = 1u;
  for (var earlier = 0u; earlier < j; earlier++) {
    if (index[earlier] == row) {
      isFirst = 0u;
      break;
    }
  }
  var following = -1;
  for (var later = j + 1u; later < params.count; later++) {
    if (index[later] == row) {
      following = i32(later);
      break;
    }
  }
  next[j] = following;
  first[j] = isFirst;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn accumulate(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let flat = id.x + id.y * groups.x * WORKGROUP_SIZE;
  if (flat >= params.outer * params.count * params.inner) { return; }
  let i = flat % params.inner;
  let j = (flat / params.inner) % params.count;
  let o = flat / (params.inner * params.count);
  let row = index[j];
  if (first[j] == 0u || row < 0 || u32(row) >= params.rows) { return; }
  var total = 0.0;
  var member = i32(j);
  while (member >= 0) {
    total += grad[(o * params.count + u32(member)) * params.inner + i];
    member = next[member];
  }
  y[(o * params.rows + u32(row)) * params.inner + i] = total;
}
