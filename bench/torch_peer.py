#!/usr/bin/env python3
# PyTorch as a peer for bench/matmul.bench.ts: the same matmul shapes (GFLOP/s)
# and a BiLSTM-CRF-sized training step (tokens/s), on 1 and 2 threads, printed
# as one JSON object. Optional and never part of the tests: it needs Debian's
# python3-torch (torch 1.13, CPU). The matmul bench runs it with --torch.
# Usage: /usr/bin/python3 bench/torch_peer.py [--matmul-only] [--quick] [--threads 1,2]
#                                             [--blas auto|openblas|system]
# BLAS: Debian's torch calls whatever libblas.so.3 the system selects; the
# reference (netlib) BLAS makes matmul ~4 GFLOP/s. With Debian's
# libopenblas0-pthread installed, --blas auto (the default) re-executes this
# script with OpenBLAS first on LD_LIBRARY_PATH, leaving the system's choice
# alone, and sets OpenBLAS's own thread count (torch.set_num_threads does not
# reach it in this build: BLAS_INFO=generic). The report names the BLAS used.
# B = batch, T = tokens, E = embedding, H = hidden per direction, C = tags

import argparse
import json
import os
import platform
import sys
import time
import ctypes

OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
REEXEC_MARK = "MEDNER_TORCH_PEER_BLAS"


def parse_args():
    parser = argparse.ArgumentParser(description="PyTorch peer figures for medner's benchmarks")
    parser.add_argument("--matmul-only", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--blas", choices=["auto", "openblas", "system"], default="auto")
    return parser.parse_args()


def maybe_reexec_with_openblas(choice):
    """Run again with OpenBLAS ahead of the system BLAS, once; the dynamic loader reads LD_LIBRARY_PATH only at start."""
    if choice == "system" or os.environ.get(REEXEC_MARK):
        return
    if not os.path.exists(os.path.join(OPENBLAS_DIR, "libopenblas.so.0")):
        if choice == "openblas":
            sys.exit(f"torch_peer.py: no OpenBLAS in {OPENBLAS_DIR} (Debian: apt-get install libopenblas0-pthread)")
        return
    env = dict(os.environ, **{REEXEC_MARK: "1"})
    env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


ARGS = parse_args()
maybe_reexec_with_openblas(ARGS.blas)

try:
    import torch
except ImportError:
    sys.exit("torch_peer.py: no torch here (Debian: apt-get install python3-torch)")


def loaded_blas():
    """The BLAS library mapped into this process after a first matmul: OpenBLAS, or the system's libblas."""
    torch.randn(8, 8) @ torch.randn(8, 8)
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line and "/" in line}
    openblas = sorted(p for p in paths if os.path.basename(p).startswith("libopenblas"))
    return openblas[0] if openblas else (sorted(paths)[0] if paths else "unknown")


def set_threads(count, blas_path):
    torch.set_num_threads(count)
    if os.path.basename(blas_path).startswith("libopenblas"):
        # OpenBLAS runs its own pthreads; this torch build does not forward set_num_threads to it.
        ctypes.CDLL(blas_path).openblas_set_num_threads(count)

# The cases of bench/matmul.bench.ts: (m, k, n, transA, transB).
CASES_QUICK = [(256, 256, 256, False, False), (512, 512, 512, False, False), (512, 512, 512, False, True)]
CASES = [
    (128, 128, 128, False, False),
    (256, 256, 256, False, False),
    (512, 512, 512, False, False),
    (1024, 1024, 1024, False, False),
    (2048, 128, 512, False, False),
    (2048, 768, 3072, False, False),
    (512, 512, 512, False, True),
    (512, 512, 512, True, False),
    (16, 128, 256, False, False),
]


def best_seconds(fn, budget=1.0, min_runs=3, max_runs=200):
    """Best wall time of fn() after one warm-up call: the least disturbed by the other load on the machine."""
    fn()
    best = float("inf")
    started = time.perf_counter()
    runs = 0
    while runs < min_runs or (runs < max_runs and time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return best


def matmul_figures(cases, threads):
    out = []
    gen = torch.Generator().manual_seed(0)
    for m, k, n, trans_a, trans_b in cases:
        # Stored as the JS bench stores them; .t() is a view, as tfjs and medner see a transposed operand.
        a = torch.randn((k, m) if trans_a else (m, k), generator=gen)
        b = torch.randn((n, k) if trans_b else (k, n), generator=gen)
        op_a = a.t() if trans_a else a
        op_b = b.t() if trans_b else b
        seconds = best_seconds(lambda: torch.matmul(op_a, op_b))
        out.append({"shape": [m, k, n], "transA": trans_a, "transB": trans_b, "threads": threads,
                    "gflops": 2 * m * k * n / seconds / 1e9, "ms": seconds * 1e3})
    return out


class BiLstmCrf(torch.nn.Module):
    """Word embeddings -> BiLSTM -> Linear -> linear-chain CRF (NLL by the forward algorithm, written here)."""

    def __init__(self, vocab, embedding, hidden, tags):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, embedding)
        self.lstm = torch.nn.LSTM(embedding, hidden, batch_first=True, bidirectional=True)
        self.emit = torch.nn.Linear(2 * hidden, tags)
        self.transitions = torch.nn.Parameter(torch.randn(tags, tags) * 0.1)
        self.start = torch.nn.Parameter(torch.zeros(tags))
        self.end = torch.nn.Parameter(torch.zeros(tags))

    def nll(self, words, tags, mask):
        emissions = self.emit(self.lstm(self.embed(words))[0])  # [B, T, C]
        batch, steps, _ = emissions.shape
        maskf = mask.float()
        # Score of the gold path.
        rows = torch.arange(batch)
        gold = self.start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        for t in range(1, steps):
            step = self.transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]
            gold = gold + step * maskf[:, t]
        lengths = mask.sum(1)
        gold = gold + self.end[tags[rows, lengths - 1]]
        # log Z by the forward algorithm; padded steps keep the previous alpha.
        alpha = self.start + emissions[:, 0]  # [B, C]
        for t in range(1, steps):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        return (log_z - gold).mean()


def bilstm_crf_figure(threads, batch=16, steps=30, vocab=20000, embedding=64, hidden=64, tags=5):
    torch.manual_seed(0)
    model = BiLstmCrf(vocab, embedding, hidden, tags)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    words = torch.randint(1, vocab, (batch, steps))
    gold = torch.randint(0, tags, (batch, steps))
    mask = torch.ones(batch, steps, dtype=torch.bool)

    def step():
        optimizer.zero_grad()
        model.nll(words, gold, mask).backward()
        optimizer.step()

    seconds = best_seconds(step, budget=3.0)
    return {"model": "bilstm-crf", "threads": threads,
            "config": {"batch": batch, "tokens": steps, "vocab": vocab, "embedding": embedding, "hidden": hidden, "tags": tags, "char_cnn": False},
            "ms_per_step": seconds * 1e3, "tokens_per_s": batch * steps / seconds}


def main():
    args = ARGS
    blas = loaded_blas()
    threads = [int(t) for t in args.threads.split(",")]
    report = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {"torch": torch.__version__, "torch BLAS": blas},
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "matmul": [],
        "train_step": [],
    }
    for count in threads:
        set_threads(count, blas)
        report["matmul"] += matmul_figures(CASES_QUICK if args.quick else CASES, count)
        if not args.matmul_only:
            report["train_step"].append(bilstm_crf_figure(count))
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
