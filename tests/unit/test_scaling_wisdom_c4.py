"""scaling_wisdom paper-scale data path: download refusal, C4 tokenisation, C4Source, the gate on real text.

Everything runs on a tiny SentencePiece model trained here and a fake C4 shard written here
(one JSON object per line with a "text" field, gzipped), so no network and a few seconds.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from paperdag.config import deep_merge
from paperdag.papers.scaling_wisdom import c4, spec, stages
from paperdag.papers.scaling_wisdom.c4 import tokenize_shards
from paperdag.papers.scaling_wisdom.sources import C4Source, make_source
from paperdag.stage import Job

spm = pytest.importorskip("sentencepiece")
torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
WORDS = (
    "the model reads a stream of text and predicts the next token while the loss falls slowly "
    "small batches are not always better and the learning rate shrinks with width"
).split()


def _docs(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(5, 40)))).capitalize() + "." for _ in range(n)]


def _shard(path: Path, docs: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps({"text": d, "timestamp": "2019-04-25T12:57:54Z", "url": "https://example.org"}) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """A tiny SentencePiece model with T5's special ids (pad 0, eos 1, unk 2, no bos) and fake C4 shards."""
    d = tmp_path_factory.mktemp("c4")
    train_docs = [_docs(150, 0), _docs(120, 1)]
    val_docs = _docs(80, 2)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sum(train_docs, [])),
        model_prefix=str(d / "spiece"),
        vocab_size=60,
        hard_vocab_limit=False,
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    shards = [_shard(d / f"c4-train.{i:05d}-of-01024.json.gz", docs) for i, docs in enumerate(train_docs)]
    val = [_shard(d / "c4-validation.00000-of-00008.json.gz", val_docs)]
    meta = tokenize_shards(d / "spiece.model", shards, val, d / "tokens", threads=1)
    return {
        "dir": d,
        "tokens": d / "tokens",
        "meta": meta,
        "train_docs": sum(train_docs, []),
        "val_docs": val_docs,
        "model": d / "spiece.model",
    }


def test_tokenize_round_trips_and_counts(corpus) -> None:
    sp = spm.SentencePieceProcessor(model_file=str(corpus["model"]))
    meta = corpus["meta"]
    for split, docs, name in (("train", corpus["train_docs"], "train.bin"), ("validation", corpus["val_docs"], "val.bin")):
        ids = np.fromfile(corpus["tokens"] / name, dtype=np.uint16)
        assert meta[split]["tokens"] == len(ids) and meta[split]["docs"] == len(docs)
        assert ids[-1] == sp.eos_id() == meta["eos_id"] == 1 and int((ids == 1).sum()) == len(docs)
        pieces = np.split(ids, np.flatnonzero(ids == 1) + 1)[:-1]  # one array per document, EOS last
        assert [sp.decode(p[:-1].tolist()) for p in pieces] == docs
    assert meta["vocab_size"] == sp.get_piece_size() and json.loads((corpus["tokens"] / "meta.json").read_text()) == meta


def test_c4_batches_deterministic_distinct_and_in_vocab(corpus) -> None:
    src = C4Source.from_dir("c4", corpus["tokens"])
    again = make_source("c4", {"kind": "c4"}, vocab=64, data_dir=corpus["tokens"])  # config vocab ignored for c4
    assert src.vocab == again.vocab == corpus["meta"]["vocab_size"]
    seeds, B, L = [0, 1], 4, 17
    a = src.batch(seeds, 3, B, L)
    assert a.shape == (2, B, L) and a.dtype == torch.long
    assert int(a.min()) >= 0 and int(a.max()) < src.vocab
    assert torch.equal(a, again.batch(seeds, 3, B, L))  # same (seed, step): same windows, any instance
    assert not torch.equal(a, src.batch(seeds, 4, B, L))  # next step: other windows
    assert not torch.equal(a[0], a[1])  # each seed its own order
    n = len(src.train) // L
    steps = n // B
    starts = [tuple(w.tolist()) for t in range(steps) for w in src.batch([0], t, B, L)[0]]
    assert len(set(starts)) == steps * B  # one pass: no window is read twice
    with pytest.raises(ValueError, match="one-pass"):
        src.batch([0], steps, B, L)
    val, test = src.fixed_set(0, 5, L, 1), src.fixed_set(0, 5, L, 2)
    assert val.shape == test.shape == (5, L) and not torch.equal(val, test)
    assert torch.equal(val, again.fixed_set(1, 5, L, 1))
    assert math.isnan(src.entropies()["entropy_rate"]) and math.isnan(src.entropies()["order1_entropy"])
    assert src.train_windows(L, limit_tokens=10 * L).shape == (10, L)


def test_empty_sha256_refuses_with_the_file_and_where_to_record_it(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _paper_cfg()
    name = "c4_validation_00000"
    d = cfg["downloads"][name]
    assert d["sha256"] == ""  # none recorded yet (no network to compute them)
    job = Job(
        paper="scaling_wisdom",
        stage="download",
        scale="paper",
        cfg=spec.job_config(cfg, "download", {"file": d["filename"]}),
        outputs=[
            str(tmp_path / "results/paper/scaling_wisdom" / spec.outputs(cfg, "download", {})[0].format(file=d["filename"]))
        ],
    )
    from paperdag.data import DownloadError

    with pytest.raises(DownloadError) as err:
        stages.download(job)
    msg = str(err.value)
    assert d["filename"] in msg and "no pinned sha256" in msg and f"scaling_wisdom.paper.downloads.{name}.sha256" in msg
    assert not Path(job.outputs[0]).exists()


def test_tokenize_stage_reads_downloads_and_writes_token_files(corpus, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _paper_cfg()
    src = cfg["sources"]["c4"]
    root = tmp_path / "results/paper/scaling_wisdom"
    (root / "downloads").mkdir(parents=True)
    names = {src["tokenizer"]: corpus["model"], src["validation"][0]: corpus["dir"] / "c4-validation.00000-of-00008.json.gz"}
    for i, key in enumerate(src["train"]):
        names[key] = corpus["dir"] / f"c4-train.{i % 2:05d}-of-01024.json.gz"
    for key, path in names.items():
        (root / spec.download_file(cfg, key)).write_bytes(path.read_bytes())
    outs = [str(root / f.format(source="c4")) for f in spec.outputs(cfg, "tokenize", {"source": "c4"})]
    c4.tokenize(
        Job(
            paper="scaling_wisdom",
            stage="tokenize",
            scale="paper",
            outputs=outs,
            cfg=spec.job_config(cfg, "tokenize", {"source": "c4"}),
        )
    )
    meta = json.loads(Path(outs[2]).read_text())
    assert meta["train"]["docs"] == 2 * len(corpus["train_docs"]) and len(src["train"]) == 4
    assert C4Source.from_dir("c4", Path(outs[0]).parent).vocab == meta["vocab_size"]


def _paper_cfg(scale: str = "paper") -> dict:
    import yaml

    section = yaml.safe_load((ROOT / "config.yaml").read_text())["scaling_wisdom"]
    return deep_merge(section["base"], section[scale])


def test_only_paper_scale_jobs_read_c4_tokens() -> None:
    for scale in ("smoke", "default"):
        cfg = _paper_cfg(scale)
        assert spec.groups(cfg, "download") == [] and spec.groups(cfg, "tokenize") == []
        assert not any(f.startswith("tokens/") for j in cfg["jobs"] for f in spec.inputs(cfg, "train", {"job": j}))
    cfg = _paper_cfg()
    assert len(spec.groups(cfg, "download")) == 6 and spec.groups(cfg, "tokenize") == [{"source": "c4"}]
    tok = spec.inputs(cfg, "tokenize", {"source": "c4"})
    assert sorted(tok) == sorted(f"downloads/{d['filename']}" for d in cfg["downloads"].values())
    for j in cfg["jobs"]:
        uses_c4 = "c4" in spec.job_config(cfg, "train", {"job": j})["sources"]
        assert (set(spec.token_files("c4")) <= set(spec.inputs(cfg, "train", {"job": j}))) == uses_c4
    assert cfg["claims_source"] == "c4" and cfg["crossover"]["source"] == cfg["batch"]["source"] == "c4"


def _runs(source: str, h1: float) -> pd.DataFrame:
    rows = []
    for b, loss in ((4, 3.2), (8, 3.1), (16, 3.15)):
        for mult, worse in ((0.5, 0.05), (1.0, 0.0), (2.0, 0.05)):  # a small per-batch LR grid, best in the middle
            for seed in (0, 1):
                rows.append(
                    {
                        "experiment": "batch",
                        "source": source,
                        "batch": b,
                        "lr_mult": mult,
                        "lr": 1e-3 * mult,
                        "seed": seed,
                        "test_loss": loss + worse + 0.01 * seed,
                        "val_loss": loss + worse,
                        "diverged": False,
                        "order1_entropy": h1,
                        "entropy_rate": float("nan"),
                    }
                )
    return pd.DataFrame(rows)


def test_gate_is_not_evaluated_on_real_text_and_claims_still_are() -> None:
    from paperdag.claims import evaluate_claims
    from paperdag.papers.scaling_wisdom.claims import claims

    pc = _paper_cfg()
    shared = {k: pc[k] for k in ("claims", "lr_extend", "crossover")} | {"batch": {**pc["batch"], "min_range": 4}}
    cfg = {"claims_source": "c4", "sources": ["c4"], **shared}
    res = {r.id: r for r in evaluate_claims(claims(cfg), _runs("c4", float("nan")), "paper")}
    assert res["gate_c4"].status == "not evaluated"
    assert res["batch_not_smallest"].status == "pass" and "gate not applicable" in res["batch_not_smallest"].detail
    # a synthetic source keeps its gate: here nothing beats an order-1 entropy of 3.0, so not evaluated
    cfg = {"claims_source": "hier", "sources": ["hier"], **shared}
    res = {r.id: r for r in evaluate_claims(claims(cfg), _runs("hier", 3.0), "paper")}
    assert res["batch_not_smallest"].status == "not evaluated"


def test_run_ensemble_on_c4_one_pass_and_multi_epoch(corpus) -> None:
    from paperdag.papers.scaling_wisdom.experiment import ModelSpec, run_ensemble

    src = C4Source.from_dir("c4", corpus["tokens"])
    train = {
        "batch": 4,
        "z_loss": 1e-4,
        "warmup_frac": 0.1,
        "final_lr_frac": 0.1,
        "reg_scope": "linear",
        "betas": [0.9, 0.95],
        "eps": 1e-8,
        "clip": 1.0,
        "checkpoint_every": 1000,
        "loss_tail_frac": 0.1,
        "log_points": 4,
    }
    arch = {"context": 16, "layers": 1, "head_dim": 16, "init_std": 0.02, "residual_init_scaled": True}
    peak = {"cpu_size": 64, "gpu_size": 256, "seconds": 0.01}
    kw = dict(width=16, batch=4, arch=arch, train=train, n_eval_seqs=4, eval_seed=987654, peak=peak, threads=1, label="c4 test")
    one = run_ensemble(src, [ModelSpec(lr=1e-2, seed=0)], tokens=640, **kw)
    multi = run_ensemble(src, [ModelSpec(lr=1e-2, seed=0, l2=1e-3)], tokens=340, regime="multi_epoch", epochs=2, **kw)
    for rec in one + multi:
        assert math.isfinite(rec["test_loss"]) and math.isfinite(rec["val_loss"]) and math.isnan(rec["order1_entropy"])
    assert one[0]["steps"] == 10 and multi[0]["steps"] == 2 * (340 // 17 // 4)
    # each run carries what it ran with, by value
    assert one[0]["settings"]["lr"] == 1e-2 and multi[0]["settings"]["l2"] == 1e-3 and multi[0]["settings"]["epochs"] == 2
    assert one[0]["settings"]["train"]["z_loss"] == 1e-4 and one[0]["settings"]["steps"] == 10
    assert one[0]["settings"]["arch"]["init_std"] == 0.02 and one[0]["settings"]["arch"]["residual_init_scaled"] is True
    assert one[0]["settings"]["train"]["reg_scope"] == "linear" and one[0]["settings"]["train"]["final_lr_frac"] == 0.1
