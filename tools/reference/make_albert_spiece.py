"""Rebuild ALBERT's spiece.model (30k-clean) from its published vocabulary, and write the tokenizer.json that
transformers' AlbertConverter makes from it, for tools/fixtures/make-subword-fixtures.mjs.

albert-base-v2's spiece.model itself could not be found on a public GitHub mirror; its vocabulary could:
30k-clean.vocab, one "piece<TAB>score" line per piece, in id order (the .vocab file SentencePiece writes
beside the .model). The model is rebuilt from it with ALBERT's training settings (pad 0, unk 1, control
symbols [CLS] [SEP] [MASK], user-defined ( ) " - . – £ €, no BOS/EOS) and SentencePiece's built-in nmt_nfkc
normalization rules (the charsmap is taken from a throwaway model Debian's sentencepiece trains with
normalization_rule_name=nmt_nfkc).

    apt-get install -y python3-sentencepiece python3-protobuf
    /usr/bin/python3 tools/reference/make_albert_spiece.py 30k-clean.vocab test/fixtures/tokenizers/albert-base-v2 /tmp/albert-tokenizer.json
"""
import base64
import json
import os
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

vocab_path, out_dir, json_path = sys.argv[1:4]

with tempfile.TemporaryDirectory() as tmp:
    text = os.path.join(tmp, "text.txt")
    with open(text, "w") as f:
        f.write("the quick brown fox jumps over the lazy dog\n" * 200)
    spm.SentencePieceTrainer.train(input=text, model_prefix=os.path.join(tmp, "m"), vocab_size=30, model_type="unigram",
                                   normalization_rule_name="nmt_nfkc", hard_vocab_limit=False)
    throwaway = pb.ModelProto()
    with open(os.path.join(tmp, "m.model"), "rb") as f:
        throwaway.ParseFromString(f.read())

CONTROL = {"<pad>", "[CLS]", "[SEP]", "[MASK]"}
USER_DEFINED = {"(", ")", '"', "-", ".", "–", "£", "€"}

model = pb.ModelProto()
with open(vocab_path, encoding="utf-8") as f:
    for line in f:
        piece, score = line.rstrip("\n").split("\t")
        p = model.pieces.add()
        p.piece = piece
        p.score = float(score)
        p.type = (pb.ModelProto.SentencePiece.CONTROL if piece in CONTROL else pb.ModelProto.SentencePiece.UNKNOWN if piece == "<unk>"
                  else pb.ModelProto.SentencePiece.USER_DEFINED if piece in USER_DEFINED else pb.ModelProto.SentencePiece.NORMAL)
model.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
model.trainer_spec.vocab_size = len(model.pieces)
model.trainer_spec.pad_id = 0
model.trainer_spec.unk_id = 1
model.trainer_spec.bos_id = -1
model.trainer_spec.eos_id = -1
model.normalizer_spec.CopyFrom(throwaway.normalizer_spec)
model.normalizer_spec.name = "nmt_nfkc"
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "spiece.model"), "wb") as f:
    f.write(model.SerializeToString())

# transformers' AlbertConverter (convert_slow_tokenizer.py): SpmConverter with ALBERT's vocab scores, normalizer and
# [CLS] A [SEP] template; control and user-defined pieces become added tokens, as AlbertTokenizerFast's specials
# ([MASK] takes the space before it).
def albert_score(piece, score):
    return score if len(piece) < 2 or piece[-1] != "," or not piece[-2].isdigit() else score - 100

added = []
for i, p in enumerate(model.pieces):
    if p.piece in ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"):
        added.append({"id": i, "content": p.piece, "single_word": False, "lstrip": p.piece == "[MASK]", "rstrip": False,
                      "normalized": False, "special": True})
cls, sep = "[CLS]", "[SEP]"
tokenizer = {
    "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Replace", "pattern": {"String": "``"}, "content": '"'},
        {"type": "Replace", "pattern": {"String": "''"}, "content": '"'},
        {"type": "NFKD"}, {"type": "StripAccents"}, {"type": "Lowercase"},
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(model.normalizer_spec.precompiled_charsmap).decode()},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
    ]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": sep, "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": sep, "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": sep, "type_id": 1}}],
        "special_tokens": {cls: {"id": cls, "ids": [2], "tokens": [cls]}, sep: {"id": sep, "ids": [3], "tokens": [sep]}},
    },
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
    "model": {"type": "Unigram", "unk_id": 1, "vocab": [[p.piece, albert_score(p.piece, p.score)] for p in model.pieces], "byte_fallback": False},
}
with open(json_path, "w", encoding="utf-8") as f:
    json.dump(tokenizer, f, ensure_ascii=False)
print(f"wrote {out_dir}/spiece.model ({len(model.pieces)} pieces, charsmap {len(model.normalizer_spec.precompiled_charsmap)} bytes) and {json_path}")
