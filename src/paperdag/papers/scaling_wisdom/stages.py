"""The scaling-wisdom stages `download` (paper scale: C4), `train` (runs the units of one job,
sweeps first) and `report`; `tokenize` lives in `c4`."""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperdag.papers.scaling_wisdom.spec import RULES, lr_tag, token_files
from paperdag.runs import SETTINGS, load_runs, write_run
from paperdag.seeding import seed_everything
from paperdag.stage import Job, results_root

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
PAPER = "scaling_wisdom"


def _flat_settings(record: dict[str, Any]) -> dict[str, Any]:
    """An extension run's record with its `settings` flattened to `settings.<key>…` columns, as
    `paperdag.runs.load_runs` does for a metrics.json."""
    out = {k: v for k, v in record.items() if k != SETTINGS}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        else:
            out[prefix] = value

    walk(SETTINGS, record.get(SETTINGS, {}))
    return out


def load_unit_runs(paths: Sequence[str]) -> pd.DataFrame:
    """Runs from metrics.json files plus the runs listed in sweep extension files (extension.json)."""
    import pandas as pd

    runs = load_runs([p for p in paths if p.endswith("metrics.json")])
    extra = [_flat_settings(r) for p in paths if p.endswith("extension.json") for r in json.loads(Path(p).read_text())["runs"]]
    return pd.concat([runs, pd.DataFrame.from_records(extra)], ignore_index=True) if extra else runs


class _Unit:
    """One unit of a job: its kind, arguments, output paths and the job it belongs to."""

    def __init__(self, job: Job, unit: str, accelerator: str = "cpu") -> None:
        self.job, self.name = job, unit
        self.kind, *self.args = unit.split("/")
        self.root = root = Path(results_root(job.scale)) / PAPER
        files = [str(root / f) for f in job.cfg["files"][unit]]
        self.paths = [p for p in files if p.endswith("metrics.json")]
        self.extension_path = next((p for p in files if p.endswith("extension.json")), None)
        tune = job.cfg["tuning"][unit]
        self.tune_paths = [str(root / f) for f in job.cfg["files"][tune]] if tune else []
        self.tune_unit = tune
        self.started = time.perf_counter()
        self.accelerator = accelerator
        self.seeds = [int(s) for s in job.cfg["seeds"][unit]]

    def source(self, name: str):
        from paperdag.papers.scaling_wisdom.sources import make_source

        data_dir = (self.root / token_files(name)[0]).parent  # read by c4 sources only
        return make_source(name, self.job.cfg["sources"][name], self.job.cfg["vocab"], data_dir=data_dir)

    def tuned_lr(self) -> dict[str, Any]:
        """The interpolated validation optimum of the tuning sweep (never the test loss)."""
        from paperdag.papers.scaling_wisdom.analysis import optimum_from_runs

        opt = optimum_from_runs(load_unit_runs(self.tune_paths), "val_loss")
        log.info("%s: tuned LR %.4g from %s (grid argmin %.4g, inside=%s)", self.name, opt.lr, self.tune_unit,
                 opt.grid_argmin, opt.inside)
        return {"tuned_lr": opt.lr, "tuned_lr_inside_grid": opt.inside, "tuned_on": self.tune_unit}

    def train(self, source: str, specs: Sequence, *, width: int, batch: int, tokens: int, tag: str = "",
              regime: str = "one_pass", epochs: int = 1) -> list[dict[str, Any]]:
        from paperdag.papers.scaling_wisdom.experiment import run_ensemble

        cfg, job = self.job.cfg, self.job
        label = f"{job.label} {self.name}{tag}"
        ckpt = job.checkpoint_dir() / job.config_hash / (self.name + tag).replace("/", "_").replace(" ", "_")
        records = run_ensemble(self.source(source), specs, width=width, batch=batch, tokens=tokens, arch=cfg["arch"],
                               train=cfg["train"], n_eval_seqs=cfg["n_eval_seqs"], eval_seed=cfg["eval_seed"],
                               peak=cfg["peak"], threads=job.threads, label=label, regime=regime, epochs=epochs,
                               checkpoint_dir=ckpt, accelerator=self.accelerator)
        for r in records:  # by value: the source's own settings and the unit that ran it
            r[SETTINGS].update(source_config=dict(cfg["sources"][source]), unit=self.name)
        return records

    def write(self, records: Sequence[dict[str, Any]], identity: Sequence[dict[str, Any]]) -> None:
        if not (len(self.paths) == len(records) == len(identity)):
            raise RuntimeError(f"{self.name}: {len(self.paths)} outputs for {len(records)} runs")
        for path, rec, ident in zip(self.paths, records, identity):
            metrics = {k: v for k, v in {**ident, **rec, "unit": self.name}.items() if k != SETTINGS}
            tuned = {k: ident[k] for k in ("tuned_lr", "tuned_on") if k in ident}
            write_run(path, metrics, config_hash=self.job.config_hash, seed=rec["seed"], started=self.started,
                      settings={**rec[SETTINGS], **tuned})


def _sweep(u: _Unit) -> None:
    """The base LR grid, then (same process, same seeds) one geometric step at a time up until an
    LR above the optimum is unstable and down while the optimum is the smallest LR swept, within
    `lr_extend`'s cap, floor and number of rounds. Extension runs go to extension.json."""
    import pandas as pd

    from paperdag.papers.scaling_wisdom.analysis import lr_curve, next_lrs
    from paperdag.papers.scaling_wisdom.experiment import ModelSpec

    cfg, ext = u.job.cfg, u.job.cfg["lr_extend"]
    source, width = u.args[0], int(u.args[1])

    def run(lrs: Sequence[float], tag: str) -> list[dict[str, Any]]:
        specs = [ModelSpec(lr=float(lr), seed=s) for lr in lrs for s in u.seeds]
        recs = u.train(source, specs, width=width, batch=cfg["train"]["batch"], tokens=cfg["train"]["tokens"], tag=tag)
        for r in recs:
            r.update(experiment="sweep", source=source, method=f"lr{lr_tag(r['lr'])}")
        return recs

    base = run(cfg["lr_grid"], "")
    u.write(base, [{"extension_round": 0} for _ in base])
    extra: list[dict[str, Any]] = []
    stop = f"max_rounds ({ext['max_rounds']}) reached"
    for rnd in range(1, int(ext["max_rounds"]) + 1):
        g = lr_curve(pd.DataFrame.from_records(base + extra))
        new = next_lrs(g["lr"].tolist(), g["loss"].where(~g["diverged"], math.inf).tolist(), g["unstable"].tolist(),
                       step=ext["step"], cap=ext["cap"], floor=ext["floor"])
        if not new:
            stop = "done: optimum not on a grid edge unless at cap/floor, and an LR above it unstable or the cap reached"
            break
        log.info("%s: extension round %d adds LR %s", u.name, rnd, ", ".join(f"{v:.4g}" for v in new))
        extra += [{**r, "extension_round": rnd, "unit": u.name, "config_hash": u.job.config_hash}
                  for r in run(new, f" ext{rnd}")]
    Path(u.extension_path).parent.mkdir(parents=True, exist_ok=True)
    Path(u.extension_path).write_text(json.dumps({"unit": u.name, "config_hash": u.job.config_hash, "lr_extend": ext,
                                                  "stopped": stop, "runs": extra}, indent=1, default=float))


def _crossover(u: _Unit) -> None:
    from paperdag.papers.scaling_wisdom.experiment import ModelSpec

    cfg = u.job.cfg
    width, d_ref, source = int(u.args[0]), int(cfg["crossover"]["ref"]), cfg["crossover"]["source"]
    tuned = u.tuned_lr()
    lrs = {"const": tuned["tuned_lr"], "scaled": tuned["tuned_lr"] * d_ref / width}
    specs = [ModelSpec(lr=lrs[r], seed=s) for r in RULES for s in u.seeds]
    records = u.train(source, specs, width=width, batch=cfg["train"]["batch"], tokens=cfg["train"]["tokens"])
    u.write(records, [{"experiment": "crossover", "source": source, "rule": r, "method": r, "d_ref": d_ref, **tuned}
                      for r in RULES for _ in u.seeds])


def _batch(u: _Unit) -> None:
    """Per batch size at fixed tokens: a small LR grid around the square-root rule (for the
    per-batch-tuned curve, chosen on validation) and η* itself (the fixed-LR curve)."""
    from paperdag.papers.scaling_wisdom.experiment import ModelSpec
    from paperdag.papers.scaling_wisdom.spec import batch_lrs

    cfg, bc = u.job.cfg, u.job.cfg["batch"]
    tuned = u.tuned_lr()
    records, ident = [], []
    for b, mults in batch_lrs(cfg).items():
        specs = [ModelSpec(lr=tuned["tuned_lr"] * m, seed=s) for m in mults for s in bc["seeds"]]
        records += u.train(bc["source"], specs, width=bc["width"], batch=int(b), tokens=cfg["train"]["tokens"], tag=f" b{b}")
        ident += [{"experiment": "batch", "source": bc["source"], "method": f"b{b}", "lr_mult": m, "fixed_lr": m == 1.0,
                   **tuned} for m in mults for _ in bc["seeds"]]
    u.write(records, ident)


def _reg(u: _Unit) -> None:
    from paperdag.papers.scaling_wisdom.experiment import ModelSpec

    cfg, rc = u.job.cfg, u.job.cfg["reg"]
    source, regime = u.args
    tuned = u.tuned_lr()
    names = list(rc["methods"])
    specs = [ModelSpec(lr=tuned["tuned_lr"], seed=s, **rc["methods"][m]) for m in names for s in u.seeds]
    if regime == "multi_epoch":
        me = rc["multi_epoch"]
        records = u.train(source, specs, width=rc["width"], batch=cfg["train"]["batch"], tokens=me["tokens"],
                          regime=regime, epochs=me["epochs"])
    else:
        records = u.train(source, specs, width=rc["width"], batch=cfg["train"]["batch"], tokens=cfg["train"]["tokens"])
    u.write(records, [{"experiment": "reg", "source": source, "method": m, **tuned} for m in names for _ in u.seeds])


def download(job: Job) -> None:
    """A checked download (URL + sha256 from config) of one C4 shard or the SentencePiece model."""
    from paperdag.data import download as fetch

    name, d = job.cfg["name"], job.cfg["download"]
    fetch(d["url"], job.outputs[0], d["sha256"], config_key=f"{PAPER}.paper.downloads.{name}.sha256")


_KINDS = {"sweep": _sweep, "crossover": _crossover, "batch": _batch, "reg": _reg}


def train(job: Job) -> None:
    """Run the job's units, sweeps first (later units may tune their LR on them)."""
    seed_everything(0, threads=job.threads)
    accelerator = job.accelerator()
    units = sorted(job.cfg["units"], key=lambda u: not u.startswith("sweep/"))
    for name in units:
        t0 = time.perf_counter()
        unit = _Unit(job, name, accelerator)
        _KINDS[unit.kind](unit)
        log.info("%s: unit %s done in %.1f s", job.label, name, time.perf_counter() - t0)


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.claims import evaluate_claims, write_claims
    from paperdag.papers.scaling_wisdom.claims import claims
    from paperdag.papers.scaling_wisdom.summary import summarize

    # `paperdag.aggregate.report_paper`, reading the sweeps' extension files as well
    claims_path = Path(job.outputs[0])
    runs = load_unit_runs(list(job.inputs))
    summarize(runs, claims_path.parent, job)
    write_claims(claims_path, job.paper, job.scale, evaluate_claims(claims(job.cfg), runs, job.scale))
