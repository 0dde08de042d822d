#!/usr/bin/python3
"""The PyTorch side of `medner eval` and `medner predict` for bench/cli-vs-torch.ts.

Builds the reference BiLSTM-CRF (model A of ner_ref.py, imported from --peer, so the
architecture is the peer's own) with the vocabularies of --train, then does what the
medner command does, timed from process start:

  eval:    read a CoNLL file, forward + Viterbi in length-sorted batches of 128
           (ner_ref's own `predict`), entity-level scoring.
  predict: read raw text (one text per line), split words on whitespace and
           punctuation, forward + Viterbi in batches, write one JSON line of
           entities with character offsets per input line.

The weights are freshly initialized (ner_ref.py saves no model): speed does not depend
on them. Prints one JSON line: sentences, seconds of the tagging itself, wall seconds
since process start, peak RSS (MB).
"""
import argparse
import importlib.util
import json
import os
import re
import resource
import sys
import time

T_START = time.perf_counter()


def load_peer(path):
    spec = importlib.util.spec_from_file_location("ner_ref", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["eval", "predict"])
    ap.add_argument("--peer", required=True, help="path of ner_ref.py")
    ap.add_argument("--train", required=True, help="CoNLL training file (vocabularies)")
    ap.add_argument("--input", required=True, help="eval: CoNLL file; predict: text file, one text per line")
    ap.add_argument("--out", default=os.devnull, help="predict: JSONL output")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--word-dim", type=int, default=100)
    ap.add_argument("--char-dim", type=int, default=25)
    ap.add_argument("--char-filters", type=int, default=25)
    ap.add_argument("--hidden", type=int, default=100)
    a = ap.parse_args()

    ref = load_peer(a.peer)
    import torch
    ref.set_threads(a.threads)
    torch.manual_seed(1)
    train = ref.read_conll(a.train)
    words, chars, tags, _ = ref.build_vocabs(train)
    model = ref.BiLSTMCRF(len(words), len(chars), len(tags), word_dim=a.word_dim, char_dim=a.char_dim,
                          char_filters=a.char_filters, hidden=a.hidden)
    model.eval()
    itag = {i: t for t, i in tags.items()}

    started = time.perf_counter()
    if a.mode == "eval":
        data = ref.read_conll(a.input)
        enc = ref.encode(data, words, chars, ref.tags_or_o(tags))
        pred = ref.predict(model, enc, tags, bs=a.batch)
        res = ref.evaluate_entities([t for _, t in data], pred)
        n = len(data)
        extra = {"f1": res["f1"]}
    else:
        with open(a.input, encoding="utf-8") as f:
            texts = [line.rstrip("\n") for line in f if line.strip()]
        spans = [[(m.group(0), m.start(), m.end()) for m in WORD.finditer(t)] for t in texts]
        keep = [i for i, s in enumerate(spans) if s]
        sents = [([w for w, _, _ in spans[i]], ["O"] * len(spans[i])) for i in keep]
        enc = ref.encode(sents, words, chars, ref.tags_or_o(tags))
        pred = ref.predict(model, enc, tags, bs=a.batch)
        by_item = dict(zip(keep, pred))
        with open(a.out, "w", encoding="utf-8") as out:
            for i, text in enumerate(texts):
                ents = []
                if i in by_item:
                    for type_, b, e in ref.get_entities(by_item[i]):
                        s, t = spans[i][b][1], spans[i][e][2]
                        ents.append({"start": s, "end": t, "text": text[s:t], "label": type_})
                out.write(json.dumps({"text": text, "entities": ents}) + "\n")
        n = len(texts)
        extra = {}
    seconds = time.perf_counter() - started
    print(json.dumps({"mode": a.mode, "sentences": n, "seconds": seconds, "sentences_per_s": n / seconds,
                      "wall_s": time.perf_counter() - T_START,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), **extra}))


if __name__ == "__main__":
    main()
