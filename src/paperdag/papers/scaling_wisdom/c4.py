"""Paper-scale data: C4 (en) json.gz shards → flat uint16 token files, with the T5 SentencePiece model.

Each shard holds one JSON object per line with a "text" field (the `allenai/c4` layout on
the Hugging Face hub). Every document is encoded and followed by the model's EOS id, and
documents are concatenated into one flat array per split (nanoGPT's `train.bin` layout),
read back with `np.memmap` by `sources.C4Source`. The T5 model has 32,000 pieces, so uint16
holds every id. Note that T5's normaliser (NFKC, whitespace folding) is lossy: newlines and
runs of spaces do not survive decoding; the round trip is exact only for normalised text.

The recipe (C4 + a 32K SentencePiece vocabulary) is the Wortsman et al. / NanoDO recipe the
protocol infers for this paper (unverified, confirm against the paper); that the T5 model
is the paper's vocabulary is likewise unverified.
"""
from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

import numpy as np

from paperdag.io import atomic_path, write_json
from paperdag.stage import Job, results_root

log = logging.getLogger(__name__)


def read_texts(path: str | Path) -> Iterator[str]:
    """The "text" field of every line of a (gzipped) JSON-lines shard."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)["text"]


def encode_shards(sp, shards: Sequence[str | Path], out: str | Path, threads: int = 1, chunk: int = 1024) -> dict[str, int]:
    """Encode every document of `shards` (+ EOS) into the flat uint16 file `out`; return its counts."""
    if sp.get_piece_size() > np.iinfo(np.uint16).max + 1 or sp.eos_id() < 0:
        raise ValueError("the SentencePiece model needs ≤ 65,536 pieces and an EOS id")
    docs = tokens = 0
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        for shard in shards:
            texts = read_texts(shard)
            while batch := list(islice(texts, chunk)):
                ids = sp.encode(batch, add_eos=True, num_threads=threads)
                flat = np.fromiter((t for doc in ids for t in doc), dtype=np.uint16)
                fh.write(flat.tobytes())
                docs, tokens = docs + len(batch), tokens + len(flat)
    return {"docs": docs, "tokens": tokens}


def tokenize_shards(model: str | Path, train: Sequence[str | Path], validation: Sequence[str | Path], out_dir: str | Path,
             threads: int = 1) -> dict:
    """Write `train.bin`, `val.bin` and `meta.json` (vocabulary, EOS id, per-split counts) to `out_dir`."""
    import sentencepiece as spm  # only the paper-scale tokenize job needs it

    sp = spm.SentencePieceProcessor(model_file=str(model))
    out_dir = Path(out_dir)
    meta = {"tokenizer": Path(model).name, "vocab_size": sp.get_piece_size(), "eos_id": sp.eos_id(), "dtype": "uint16",
            "train": {"shards": [Path(p).name for p in train], **encode_shards(sp, train, out_dir / "train.bin", threads)},
            "validation": {"shards": [Path(p).name for p in validation],
                           **encode_shards(sp, validation, out_dir / "val.bin", threads)}}
    write_json(out_dir / "meta.json", meta)
    return meta


def tokenize(job: Job) -> None:
    """Stage: encode one c4 source's shards into `tokens/<source>/{train,val}.bin` + `meta.json`."""
    root = Path(results_root(job.scale)) / "scaling_wisdom"
    cfg = job.cfg
    meta = tokenize_shards(root / cfg["tokenizer"], [root / p for p in cfg["train"]],
                           [root / p for p in cfg["validation"]], Path(job.outputs[0]).parent, threads=job.threads)
    log.info("%s: %d train tokens (%d docs), %d validation tokens", job.label, meta["train"]["tokens"],
             meta["train"]["docs"], meta["validation"]["tokens"])
