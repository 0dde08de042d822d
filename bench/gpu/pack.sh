#!/usr/bin/env bash
# Builds the GPU benchmark kit: one folder (at most 64 MiB) that runs medner's WebGPU
# self-check and GPU benchmark suite on a bare Linux x86-64 machine with an NVIDIA GPU
# and no network -- no Node, no npm, no Vulkan loader needed there.
#   node.gz                 this machine's Node binary (v20), gzip -9 (run.sh unpacks it)
#   node_modules/webgpu/    the `webgpu` package with only linux-x64 dawn.node (gzip -9)
#   dist/cli/medner.mjs     the CLI bundled by esbuild (webgpu external), where the package's
#   package.json            dist/cli/main.js would be, so it finds ../../package.json for --version
#   check.mjs               bench/gpu/check.ts bundled
#   kernels/                kernels/*.wgsl (MEDNER_KERNELS_DIR points there)
#   lib/                    the Vulkan loader and GL dispatch libraries from Debian packages
#                           (libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2)
#   torch_models.py         the PyTorch peer (runs where torch with CUDA is installed)
#   run.sh, README.md
# gzip rather than xz: every bare image has gunzip. Usage: bash bench/gpu/pack.sh [out-dir]
# (default bench-results/gpu-kit; also writes <out-dir>.tar). Needs the dev install
# (npm ci) and apt-get download access to Debian's archive, or a cached lib/ in $MEDNER_GPU_KIT_DEBS.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bench-results/gpu-kit}
rm -rf "$OUT"
mkdir -p "$OUT/kernels" "$OUT/lib" "$OUT/dist/cli" "$OUT/node_modules/webgpu/dist/linux-x64"

echo "pack: bundling medner and the self-check"
BANNER="import { createRequire as __medner_createRequire } from 'node:module'; const require = __medner_createRequire(import.meta.url);"
for entry in src/cli/main.ts:dist/cli/medner.mjs bench/gpu/check.ts:check.mjs; do
  npx --no-install esbuild "${entry%%:*}" --bundle --platform=node --format=esm --target=node20 \
    --external:webgpu --banner:js="$BANNER" --log-level=warning --outfile="$OUT/${entry##*:}"
done
cp kernels/*.wgsl "$OUT/kernels/"
node -e 'const p = require("./package.json"); console.log(JSON.stringify({ name: p.name, version: p.version, type: "module", private: true }))' > "$OUT/package.json"
cp bench/torch_models.py bench/gpu/run.sh bench/gpu/README.md "$OUT/"

echo "pack: Node $(node --version) and dawn.node (linux-x64)"
gzip -9 -c "$(readlink -f "$(command -v node)")" > "$OUT/node.gz"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md "$OUT/node_modules/webgpu/"
gzip -9 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$OUT/node_modules/webgpu/dist/linux-x64/dawn.node.gz"

echo "pack: Vulkan loader and GL dispatch libraries"
DEBS=${MEDNER_GPU_KIT_DEBS:-$(mktemp -d)}
( cd "$DEBS" && ls ./*.deb >/dev/null 2>&1 || apt-get download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2 >/dev/null )
UNPACK=$(mktemp -d)
for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$UNPACK"; done
cp -a "$UNPACK"/usr/lib/x86_64-linux-gnu/*.so* "$OUT/lib/"
rm -rf "$UNPACK"

tar -cf "$OUT.tar" -C "$(dirname "$OUT")" "$(basename "$OUT")"
SIZE=$(du -sb "$OUT" | cut -f1)
echo "pack: $OUT ($((SIZE / 1024 / 1024)) MiB; $OUT.tar $(( $(stat -c %s "$OUT.tar") / 1024 / 1024 )) MiB)"
if [ "$SIZE" -gt $((64 * 1024 * 1024)) ]; then echo "pack: the kit is over 64 MiB" >&2; exit 1; fi
