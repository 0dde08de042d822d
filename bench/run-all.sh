#!/usr/bin/env bash
# Every benchmark of bench/, one after another, in one session so the figures are
# side by side; JSON lands in bench-results/ (gitignored). See bench/README.md.
# Usage: bash bench/run-all.sh [--quick]
#   --quick   a smoke run (minutes): fewer shapes and steps, not for reporting
# Peers: tfjs from bench/peers (cd bench/peers && npm install), PyTorch from Debian's
# python3-torch (+ libopenblas0-pthread); a missing peer is skipped, not an error.
# Run on an otherwise idle machine: figures from a shared 2-core machine are not comparable.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
if [[ "${1:-}" == "--quick" ]]; then quick=(--quick); fi

# Kernels and layers on the default thread count (the CPU matmul may use both cores).
npx tsx bench/kernels.bench.ts "${quick[@]}"
npx tsx bench/layers.bench.ts "${quick[@]}"

# One BERT layer step vs tfjs (cpu, wasm, webgpu), one core each (the script sets MEDNER_THREADS=1).
if [[ ${#quick[@]} -gt 0 ]]; then
  npx tsx bench/tfjs-bert-layer.ts --hidden 128 --steps 1
else
  npx tsx bench/tfjs-bert-layer.ts
fi

# End to end on one core, beside PyTorch on one thread.
MEDNER_THREADS=1 npx tsx bench/end-to-end.bench.ts "${quick[@]}" --out bench-results/end-to-end-1thread.json
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 bench/torch_models.py --threads 1 "${quick[@]}" --out bench-results/torch-models-1thread.json > /dev/null
else
  echo "no python3-torch: PyTorch reference skipped"
fi

# End to end with both cores (CPU backend only; WebGPU does not use them), beside PyTorch on two threads.
npx tsx bench/end-to-end.bench.ts "${quick[@]}" --backends cpu --out bench-results/end-to-end.json
if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 bench/torch_models.py --threads 2 "${quick[@]}" --out bench-results/torch-models-2threads.json > /dev/null
fi

# Real data, when the corpus is there (a user's clone has no ../shared).
if [[ -f ../shared/data/bc5cdr/iob/train.tsv ]]; then
  MEDNER_THREADS=1 npx tsx bench/end-to-end.bench.ts "${quick[@]}" --cases bilstm-crf --backends cpu \
    --data ../shared/data/bc5cdr/iob/train.tsv --dev ../shared/data/bc5cdr/iob/devel.tsv --out bench-results/end-to-end-bc5cdr.json
fi
