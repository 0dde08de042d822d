#!/usr/bin/env bash
# Runs inside the GPU kit (bench/gpu/pack.sh) on a bare Linux x86-64 machine: unpacks
# Node and dawn.node, finds the WebGPU adapter and says which, checks the WebGPU
# kernels against the CPU backend (check.mjs), runs `medner bench --suite gpu`, and,
# where python3 has torch with CUDA, the same configurations in PyTorch beside it.
# Writes results/gpu-bench.json (adapter, check, medner, torch). A software adapter
# (llvmpipe, SwiftShader) is reported loudly and runs the toy sizes: the JSON is still
# written, marked "software_adapter": true, and the exit status is 3.
# Usage: bash run.sh [--quick]      Budget: the whole run fits in 10 minutes on a GPU.
set -euo pipefail
KIT=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$KIT/results}
mkdir -p "$OUT" "$KIT/bin"
QUICK=""
[ "${1:-}" = "--quick" ] && QUICK="--quick"

[ -x "$KIT/bin/node" ] || { gunzip -c "$KIT/node.gz" > "$KIT/bin/node"; chmod +x "$KIT/bin/node"; }
DAWN="$KIT/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$DAWN" ] || gunzip -c "$DAWN.gz" > "$DAWN"
NODE="$KIT/bin/node"
export LD_LIBRARY_PATH="$KIT/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export MEDNER_KERNELS_DIR="$KIT/kernels"

# The NVIDIA driver's Vulkan ICD lives in libGLX_nvidia.so.0; containers often lack its
# JSON manifest. Write one when the library is there and no manifest is.
if [ -z "${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  GLX=$( (ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}') || true)
  if [ -n "$GLX" ]; then
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3"}}\n' "$GLX" > "$KIT/nvidia_icd.json"
    export VK_ICD_FILENAMES="$KIT/nvidia_icd.json"
    echo "run: wrote a Vulkan ICD manifest for $GLX"
  fi
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/run: GPU /' || true

ADAPTER=$("$NODE" "$KIT/check.mjs" --adapter 2>/dev/null | tail -1)
echo "run: adapter $ADAPTER"
SOFTWARE=false
if echo "$ADAPTER" | grep -q '"fallback":true'; then
  SOFTWARE=true
  QUICK="--quick"
  echo "run: ****************************************************************" >&2
  echo "run: SOFTWARE ADAPTER -- no GPU reached through Vulkan; toy sizes only." >&2
  echo "run: These are not GPU figures. (Is the NVIDIA Vulkan driver installed?)" >&2
  echo "run: ****************************************************************" >&2
fi

STATUS=0
echo "run: self-check, WebGPU against the CPU backend"
"$NODE" "$KIT/check.mjs" $QUICK --out "$OUT/check.json" > /dev/null || STATUS=$?
echo "run: medner bench --backend webgpu --suite gpu $QUICK"
"$NODE" "$KIT/dist/cli/medner.mjs" bench --backend webgpu --suite gpu --json $QUICK > "$OUT/medner-bench.json"

TORCH=null
if command -v python3 >/dev/null && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "run: PyTorch (CUDA) peer, same configurations"
  python3 "$KIT/torch_models.py" --device cuda --suite gpu $QUICK --out "$OUT/torch-cuda.json" > /dev/null
  TORCH="$OUT/torch-cuda.json"
else
  echo "run: no python3 with CUDA torch here: medner figures only"
fi

"$NODE" -e '
const fs = require("fs");
const [out, adapter, software, torch, status] = process.argv.slice(1);
const read = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const report = {
  adapter: JSON.parse(adapter), software_adapter: software === "true", date: new Date().toISOString(),
  check: read(out + "/check.json"), medner: read(out + "/medner-bench.json"),
  torch: torch === "null" ? null : read(torch), check_status: Number(status),
};
fs.writeFileSync(out + "/gpu-bench.json", JSON.stringify(report, null, 2));
for (const r of report.medner.results) console.log("medner " + r.name + " " + JSON.stringify(r));
' "$OUT" "$ADAPTER" "$SOFTWARE" "$TORCH" "$STATUS"
echo "run: wrote $OUT/gpu-bench.json"
[ "$STATUS" -ne 0 ] && { echo "run: the self-check FAILED (see $OUT/check.json)" >&2; exit 1; }
[ "$SOFTWARE" = true ] && exit 3
exit 0
