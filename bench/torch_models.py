#!/usr/bin/env python3
# PyTorch reference for bench/end-to-end.bench.ts: the same models, batches and step.
#   bilstm-crf       word 100 (20,000 words) + char-CNN (char 30, 30 filters, width 3, tanh,
#                    max over characters) -> dropout 0.5 -> BiLSTM 100/dir (packed, so the
#                    reverse direction starts at each sentence's end) -> dropout -> Linear ->
#                    CRF over 5 tags; batch 32 with the end-to-end bench's sentence lengths
#                    (the same mulberry32 + log-normal draw, mean ~26 words). tokens/s counts
#                    real words; inference is forward + Viterbi over 1,024 sentences in
#                    length-sorted batches of 128.
#   bert-LxH         BERT from scratch (word 28,996 + position + type embeddings, LayerNorm;
#                    L post-LN torch.nn.TransformerEncoderLayer, heads H/64 (2 at 128), FFN 4H,
#                    GELU, dropout 0.1) -> first subword of each word (64 words, [CLS] and [SEP]
#                    around them: 66 subwords) -> BiLSTM 64/dir -> Linear -> CRF; batch 16 x 64.
# The CRF NLL (forward algorithm + gold path score, masked) and Viterbi are written in torch
# here, as pytorch-crf does. A step: forward, NLL (mean over the batch), backward,
# clip_grad_norm_(5), AdamW -- what medner's trainer does per batch.
# Each case runs in its own process, so its peak RSS (ru_maxrss) is its own.
#
# Optional and never part of the tests: it needs Debian's python3-torch (1.13, CPU).
# BLAS: as bench/torch_peer.py, it re-executes itself with OpenBLAS first on
# LD_LIBRARY_PATH when Debian's libopenblas0-pthread is installed (the reference BLAS makes
# torch's matmul ~4 GFLOP/s), and sets OpenBLAS's own thread count.
# Usage: /usr/bin/python3 bench/torch_models.py [--threads 1] [--cases bilstm-crf,bert-2x128,...]
#                                               [--quick] [--blas auto|openblas|system]
#                                               [--device cpu|cuda] [--suite default|gpu]
# --suite gpu is what `medner bench --suite gpu` runs (bench/gpu/run.sh runs both on one GPU):
# fp32 matmul 1024-8192 (TF32 off) and every case at batch 32 x 128 words.
# Prints one JSON object; writes it to --out (default bench-results/torch-models.json).

import argparse
import ctypes
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time

OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
REEXEC_MARK = "MEDNER_TORCH_MODELS_BLAS"
CASES = ["bilstm-crf", "bert-2x128", "bert-4x256", "bert-12x768"]


def parse_args():
    parser = argparse.ArgumentParser(description="PyTorch reference figures for medner's end-to-end bench")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--blas", choices=["auto", "openblas", "system"], default="auto")
    parser.add_argument("--out", default="bench-results/torch-models.json")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--suite", choices=["default", "gpu"], default="default")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    return parser.parse_args()


def maybe_reexec_with_openblas(choice):
    if ARGS.device == "cuda":
        return
    """Run again with OpenBLAS ahead of the system BLAS, once; the dynamic loader reads LD_LIBRARY_PATH only at start."""
    if choice == "system" or os.environ.get(REEXEC_MARK):
        return
    if not os.path.exists(os.path.join(OPENBLAS_DIR, "libopenblas.so.0")):
        if choice == "openblas":
            sys.exit(f"torch_models.py: no OpenBLAS in {OPENBLAS_DIR} (Debian: apt-get install libopenblas0-pthread)")
        return
    env = dict(os.environ, **{REEXEC_MARK: "1"})
    env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


ARGS = parse_args()
maybe_reexec_with_openblas(ARGS.blas)

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("torch_models.py: no torch here (Debian: apt-get install python3-torch)")


def loaded_blas():
    """The BLAS library mapped into this process after a first matmul."""
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


# ---- the end-to-end bench's sentence lengths: mulberry32 + log-normal, as in bench/end-to-end.bench.ts ----

def mulberry32(seed):
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def draw_lengths(count, seed=7):
    nxt = mulberry32(seed)
    out = []
    for _ in range(count):
        u1 = nxt() + 1 / 8589934592
        u2 = nxt()
        z = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
        # JS Math.round rounds halves up; floor(x + 0.5) does the same.
        out.append(min(120, max(3, math.floor(math.exp(3.13 + 0.5 * z) + 0.5))))
    return out


# ---- CRF in torch ----

class CRF(nn.Module):
    """Linear-chain CRF with start/end transitions, masked (a prefix of ones per sequence)."""

    def __init__(self, tags):
        super().__init__()
        self.transitions = nn.Parameter(torch.empty(tags, tags).uniform_(-0.1, 0.1))
        self.start = nn.Parameter(torch.empty(tags).uniform_(-0.1, 0.1))
        self.end = nn.Parameter(torch.empty(tags).uniform_(-0.1, 0.1))

    def nll(self, emissions, tags, mask):
        batch, steps, _ = emissions.shape
        maskf = mask.float()
        rows = torch.arange(batch, device=emissions.device)
        # Gold path score.
        score = self.start[tags[:, 0]] + emissions[rows, 0, tags[:, 0]]
        for t in range(1, steps):
            score = score + (self.transitions[tags[:, t - 1], tags[:, t]] + emissions[rows, t, tags[:, t]]) * maskf[:, t]
        last = tags[rows, mask.long().sum(1) - 1]
        score = score + self.end[last]
        # log Z by the forward algorithm; padded steps carry alpha forward.
        alpha = self.start + emissions[:, 0]
        for t in range(1, steps):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        log_z = torch.logsumexp(alpha + self.end, dim=1)
        return (log_z - score).mean()

    @torch.no_grad()
    def viterbi(self, emissions, mask):
        batch, steps, _ = emissions.shape
        score = self.start + emissions[:, 0]
        history = []
        for t in range(1, steps):
            best, index = (score.unsqueeze(2) + self.transitions).max(dim=1)
            nxt = best + emissions[:, t]
            score = torch.where(mask[:, t].unsqueeze(1), nxt, score)
            history.append(index)
        score = score + self.end
        lengths = mask.long().sum(1).tolist()
        paths = []
        for b in range(batch):
            tag = int(score[b].argmax())
            path = [tag]
            for t in range(lengths[b] - 2, -1, -1):
                tag = int(history[t][b, tag])
                path.append(tag)
            paths.append(path[::-1])
        return paths


# ---- models ----

class CharCNN(nn.Module):
    def __init__(self, chars, dim=30, filters=30, width=3):
        super().__init__()
        self.embed = nn.Embedding(chars, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, width, padding=width // 2)

    def forward(self, char_ids):  # [B, T, L] -> [B, T, F]
        batch, steps, length = char_ids.shape
        x = self.embed(char_ids.view(batch * steps, length)).transpose(1, 2)
        return torch.tanh(self.conv(x)).max(dim=2).values.view(batch, steps, -1)


class BiLstmCrf(nn.Module):
    def __init__(self, vocab, chars, tags, word_dim=100, hidden=100, dropout=0.5):
        super().__init__()
        self.words = nn.Embedding(vocab, word_dim, padding_idx=0)
        self.chars = CharCNN(chars)
        self.lstm = nn.LSTM(word_dim + 30, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, tags)
        self.crf = CRF(tags)

    def emissions(self, words, chars, lengths):
        x = self.dropout(torch.cat([self.words(words), self.chars(chars)], dim=2))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=words.shape[1])
        return self.classifier(self.dropout(out))


class BertBiLstmCrf(nn.Module):
    def __init__(self, vocab, layers, hidden, tags, lstm_hidden=64, dropout=0.1):
        super().__init__()
        heads = max(2, hidden // 64)
        self.word = nn.Embedding(vocab, hidden, padding_idx=0)
        self.position = nn.Embedding(512, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(hidden, heads, 4 * hidden, dropout=dropout, activation="gelu", batch_first=True, norm_first=False, layer_norm_eps=1e-12)
            for _ in range(layers)
        ])
        self.lstm = nn.LSTM(hidden, lstm_hidden, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(2 * lstm_hidden, tags)
        self.crf = CRF(tags)

    def emissions(self, ids, words):
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.dropout(self.norm(self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids))))
        for layer in self.layers:
            x = layer(x)
        pooled = x[:, 1:1 + words]  # first subword of each word: every word is one subword here
        out, _ = self.lstm(pooled)
        return self.classifier(self.dropout(out))


# ---- measurement ----

def random_words(count, gen):
    """Word lengths 3-12 and letters a-z, as the JS bench's lexicon (not the same words)."""
    lengths = torch.randint(3, 13, (count,), generator=gen).tolist()
    return [torch.randint(1, 27, (n,), generator=gen).tolist() for n in lengths]


def word_batch(lengths, lexicon, vocab, gen, tags=5):
    """ids [B, T], char ids [B, T, L], gold tags [B, T], mask [B, T] for sentences of the given lengths."""
    batch, steps = len(lengths), max(lengths)
    words = torch.zeros(batch, steps, dtype=torch.long)
    gold = torch.zeros(batch, steps, dtype=torch.long)
    mask = torch.zeros(batch, steps, dtype=torch.bool)
    picks = []
    for b, n in enumerate(lengths):
        ids = torch.randint(2, vocab, (n,), generator=gen)
        words[b, :n] = ids
        gold[b, :n] = torch.randint(0, tags, (n,), generator=gen)
        mask[b, :n] = True
        picks.append(ids.tolist())
    width = min(24, max(len(lexicon[i % len(lexicon)]) for p in picks for i in p))
    chars = torch.zeros(batch, steps, width, dtype=torch.long)
    for b, p in enumerate(picks):
        for t, i in enumerate(p):
            letters = lexicon[i % len(lexicon)][:width]
            chars[b, t, :len(letters)] = torch.tensor(letters)
    return words, chars, gold, mask, torch.tensor(lengths)


DEVICE = torch.device(ARGS.device)
GPU_SUITE = ARGS.suite == "gpu"


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def to_device(batch):
    """words, chars, gold, mask on the device; lengths stay on the CPU (pack_padded_sequence wants them there)."""
    words, chars, gold, mask, lens = batch
    return words.to(DEVICE), chars.to(DEVICE), gold.to(DEVICE), mask.to(DEVICE), lens


def peak_memory_mb():
    if DEVICE.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_step(model, optimizer, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    return float(loss)


def run_bilstm_crf(quick):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    vocab, batch, warmup, steps = 20_000, 32, 2, (3 if quick else (5 if GPU_SUITE else 20))
    lexicon = random_words(vocab, gen)
    model = BiLstmCrf(vocab, 28, 5).to(DEVICE)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    # The GPU suite: every sentence 128 words, as medner's `bench --suite gpu`.
    lengths = [128] * ((warmup + steps) * batch) if GPU_SUITE else draw_lengths((warmup + steps) * batch)
    batches = [to_device(word_batch(lengths[i * batch:(i + 1) * batch], lexicon, vocab, gen)) for i in range(warmup + steps)]
    model.train()
    for words, chars, gold, mask, lens in batches[:warmup]:
        train_step(model, optimizer, lambda: model.crf.nll(model.emissions(words, chars, lens), gold, mask))
    elapsed, tokens, losses = 0.0, 0, []
    for words, chars, gold, mask, lens in batches[warmup:]:
        t0 = time.perf_counter()
        losses.append(train_step(model, optimizer, lambda: model.crf.nll(model.emissions(words, chars, lens), gold, mask)))
        elapsed += time.perf_counter() - t0
        tokens += int(lens.sum())
    train_rss = peak_memory_mb()
    # Inference: 1,024 sentences sorted by length, batches of 128, forward + Viterbi.
    model.eval()
    infer_lengths = sorted(draw_lengths(1024, 11))
    infer = [to_device(word_batch(infer_lengths[i:i + 128], lexicon, vocab, gen)) for i in range(0, 1024, 128)]
    if quick:
        infer = infer[:2]
    with torch.no_grad():
        words, chars, _, mask, lens = infer[len(infer) // 2]
        model.crf.viterbi(model.emissions(words, chars, lens), mask)  # warm-up
        t0 = time.perf_counter()
        for words, chars, _, mask, lens in infer:
            model.crf.viterbi(model.emissions(words, chars, lens), mask)
        infer_s = time.perf_counter() - t0
    return {
        "case": "bilstm-crf", "batch": batch, "steps": steps, "mean_words": tokens / steps / batch,
        "ms_per_step": elapsed / steps * 1e3, "train_tokens_per_s": tokens / elapsed,
        "infer_sentences_per_s": sum(len(b[4]) for b in infer) / infer_s,
        "peak_rss_mb_train": train_rss, "first_loss": losses[0], "last_loss": losses[-1],
    }


def run_bert(layers, hidden, quick):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    vocab, batch, words = (28_996, 32, 128) if GPU_SUITE else (28_996, 16, 64)
    warmup, steps = 1, (1 if quick else (3 if GPU_SUITE else {128: 5, 256: 3}.get(hidden, 2)))
    model = BertBiLstmCrf(vocab, layers, hidden, 5).to(DEVICE)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    ids = torch.randint(5, vocab, (batch, words + 2), generator=gen)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    gold = torch.randint(0, 5, (batch, words), generator=gen)
    mask = torch.ones(batch, words, dtype=torch.bool)
    ids, gold, mask = ids.to(DEVICE), gold.to(DEVICE), mask.to(DEVICE)
    model.train()
    loss_fn = lambda: model.crf.nll(model.emissions(ids, words), gold, mask)
    for _ in range(warmup):
        train_step(model, optimizer, loss_fn)
    samples, losses = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        losses.append(train_step(model, optimizer, loss_fn))
        samples.append(time.perf_counter() - t0)
    train_rss = peak_memory_mb()
    model.eval()
    with torch.no_grad():
        model.crf.viterbi(model.emissions(ids, words), mask)
        runs = 1 if quick or hidden >= 768 else 3
        t0 = time.perf_counter()
        for _ in range(runs):
            model.crf.viterbi(model.emissions(ids, words), mask)
        infer_s = (time.perf_counter() - t0) / runs
    ms = sorted(samples)[len(samples) // 2] * 1e3
    return {
        "case": f"bert-{layers}x{hidden}", "batch": batch, "words": words, "steps": steps,
        "parameters": sum(p.numel() for p in model.parameters()),
        "ms_per_step": ms, "best_ms": min(samples) * 1e3, "train_tokens_per_s": batch * words / ms * 1e3,
        "infer_sentences_per_s": batch / infer_s, "peak_rss_mb_train": train_rss,
        "first_loss": losses[0], "last_loss": losses[-1],
    }


def run_matmul(n, quick):
    """fp32 GFLOP/s of an n x n x n product, TF32 off (medner computes in fp32), median of 5 after a warm-up."""
    torch.backends.cuda.matmul.allow_tf32 = False
    a = torch.randn(n, n, device=DEVICE)
    b = torch.randn(n, n, device=DEVICE)
    torch.matmul(a, b)
    sync()
    samples = []
    for _ in range(1 if quick else 5):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        sync()
        samples.append(time.perf_counter() - t0)
    ms = sorted(samples)[len(samples) // 2] * 1e3
    return {"case": f"matmul-{n}", "ms": ms, "gflops": 2 * n ** 3 / ms / 1e6}


def run_case(name, quick):
    if name.startswith("matmul-"):
        return run_matmul(int(name[len("matmul-"):]), quick)
    if name == "bilstm-crf":
        result = run_bilstm_crf(quick)
    elif name.startswith("bert-"):
        layers, hidden = (int(v) for v in name[len("bert-"):].split("x"))
        result = run_bert(layers, hidden, quick)
    else:
        sys.exit(f"torch_models.py: unknown case {name} ({', '.join(CASES)})")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["device"] = ARGS.device
    return result


def main():
    args = ARGS
    blas = loaded_blas() if args.device == "cpu" else "cuda"
    if args.device == "cpu":
        set_threads(args.threads, blas)
    elif not torch.cuda.is_available():
        sys.exit("torch_models.py: --device cuda, but this torch has no CUDA device")
    if args.one:
        print("RESULT " + json.dumps(run_case(args.one, args.quick)))
        return
    report = {
        "benchmark": "torch-models",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "python": platform.python_version()},
        "versions": {"torch": torch.__version__, "torch BLAS": blas},
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
        "suite": args.suite,
        "threads": args.threads,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "results": [],
    }
    cases = args.cases.split(",")
    if args.suite == "gpu" and args.cases == ",".join(CASES):
        cases = [f"matmul-{n}" for n in ([128, 256] if args.quick else [1024, 2048, 4096, 8192])] + CASES
    for name in cases:
        # A child per case (this environment, so no second BLAS re-exec): its peak RSS is its own.
        cmd = [sys.executable, os.path.abspath(__file__), "--one", name, "--threads", str(args.threads), "--blas", args.blas,
               "--device", args.device, "--suite", args.suite] + (["--quick"] if args.quick else [])
        run = subprocess.run(cmd, capture_output=True, text=True)
        line = next((l for l in run.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            report["results"].append({"case": name, "error": (run.stderr or run.stdout)[-500:]})
            print(f"{name}: failed\n{run.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(line[len("RESULT "):])
        if name.startswith("matmul-"):
            print(f"{name}: {result['gflops']:.0f} GFLOP/s", file=sys.stderr)
            report["results"].append(result)
            continue
        print(f"{name}: {result['ms_per_step']:.1f} ms/step, {result['train_tokens_per_s']:.0f} train tokens/s, "
              f"{result['infer_sentences_per_s']:.0f} sentences/s, peak RSS {result['peak_rss_mb']:.0f} MB", file=sys.stderr)
        report["results"].append(result)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
