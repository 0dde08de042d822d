#!/usr/bin/python3
"""PyTorch side of bench/crf-tags.bench.ts: the batched linear-chain CRF as ner_ref.py and
pytorch-crf write it (logsumexp over [B, C, C] per step, torch.where for the mask; Viterbi by
max over [B, C, C] with back-pointers), timed per real token: the log-partition with its
gradient (autograd) and Viterbi. Prints one JSON line {"nll": us/token, "viterbi": us/token}."""
import argparse
import json
import math
import statistics
import time

import torch


def log_partition(em, mask, start, end, trans):
    B, S, C = em.shape
    score = start.unsqueeze(0) + em[:, 0]
    t = trans.unsqueeze(0)
    for i in range(1, S):
        nxt = torch.logsumexp(score.unsqueeze(2) + t + em[:, i].unsqueeze(1), dim=1)
        score = torch.where(mask[:, i].unsqueeze(1), nxt, score)
    return torch.logsumexp(score + end.unsqueeze(0), dim=1)


@torch.no_grad()
def viterbi(em, mask, start, end, trans):
    B, S, C = em.shape
    score = start.unsqueeze(0) + em[:, 0]
    t = trans.unsqueeze(0)
    ident = torch.arange(C).unsqueeze(0).expand(B, C)
    history = []
    for i in range(1, S):
        best, idx = (score.unsqueeze(2) + t).max(dim=1)
        m = mask[:, i].unsqueeze(1)
        score = torch.where(m, best + em[:, i], score)
        history.append(torch.where(m, idx, ident))
    cur = (score + end.unsqueeze(0)).argmax(dim=1)
    path = [cur]
    for idx in reversed(history):
        cur = idx.gather(1, cur.unsqueeze(1)).squeeze(1)
        path.append(cur)
    return torch.stack(path[::-1], dim=1)


def timed(fn, budget):
    fn()
    samples, started = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - started < budget:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=33)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=26)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, S, C = a.batch, a.steps, a.tags
    lengths = [math.ceil(S / 2 + (S / 2) * b / B) for b in range(B)]
    mask = torch.zeros(B, S, dtype=torch.bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    em = torch.randn(B, S, C, requires_grad=True)
    start, end = (torch.randn(C) * 0.1).requires_grad_(), (torch.randn(C) * 0.1).requires_grad_()
    trans = (torch.randn(C, C) * 0.1).requires_grad_()
    tokens = sum(lengths)

    def nll():
        for p in (em, start, end, trans):
            p.grad = None
        log_partition(em, mask, start, end, trans).mean().backward()

    budget = 0.5 if a.quick else 3.0
    t_nll = timed(nll, budget)
    t_vit = timed(lambda: viterbi(em.detach(), mask, start.detach(), end.detach(), trans.detach()), budget)
    print(json.dumps({"nll": t_nll * 1e6 / tokens, "viterbi": t_vit * 1e6 / tokens, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
