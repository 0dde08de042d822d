#!/usr/bin/env bash
# Tag one large input with N medner processes on one machine, through GNU parallel (Debian: `parallel`).
# Each process tags shard i of N of the same file (no pre-split) into OUT_DIR/part-i.jsonl.gz; run the
# same command again after an interruption and every shard resumes where it stopped.
#
#   bash examples/cluster/parallel.sh MODEL_DIR INPUT OUT_DIR [N] [-- more predict options]
#   e.g. bash examples/cluster/parallel.sh runs/cdr/best pubmed.jsonl.gz tagged 8 -- --batch-size 32
#
# N defaults to the number of cores; each process keeps its matmuls on one core (MEDNER_THREADS=1), the
# fastest split on a CPU machine. MEDNER (default: medner) is the command that runs the CLI.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 MODEL_DIR INPUT OUT_DIR [N] [-- predict options]" >&2
  exit 2
fi
model=$1 input=$2 out_dir=$3
shift 3
shards=$(nproc)
if [ $# -gt 0 ] && [ "$1" != "--" ]; then shards=$1; shift; fi
[ "${1:-}" = "--" ] && shift
mkdir -p "$out_dir"
export MEDNER_THREADS=1
# --halt now,fail=1: one failed shard stops the rest (their partial files stay, and --resume continues them).
parallel --will-cite --halt now,fail=1 -j "$shards" \
  ${MEDNER:-medner} predict --model "$model" --input "$input" --shard "{}/$shards" \
  --out "$out_dir/part-{}.jsonl.gz" --resume "$@" \
  ::: $(seq 0 $((shards - 1)))
echo "$shards shards tagged: $out_dir/part-*.jsonl.gz" >&2
