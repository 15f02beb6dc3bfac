"""The batched CS-IB task (without Lightning): losses, early stopping, best-validation weights; the data split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paperdag.papers.cs_ib.data import split_and_standardize
from paperdag.papers.cs_ib.estimators import cs_divergence, cs_qmi
from paperdag.papers.cs_ib.task import IBRegressionTask, RunSpec

torch.set_num_threads(1)


def _split(n: int = 300, d: int = 5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)).astype(np.float32) * 3 + 1
    y = x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n)
    return split_and_standardize(x, y, split_seed=0)


def _task(split, max_steps: int = 12, patience: int = 100) -> IBRegressionTask:
    runs = [
        RunSpec("mse", "mse", 0.0, 0),
        RunSpec("vib", "vib", 1e-3, 0),
        RunSpec("nib", "nib", 1e-2, 1, (("h", "exp"),)),
        RunSpec("hsic", "hsic", 1e-2, 1, (("lambda_y", 0.01),)),
        RunSpec("cs_ib", "cs_ib", 0.1, 0),
    ]
    return IBRegressionTask(
        split,
        runs,
        max_steps=max_steps,
        eval_every=2,
        patience=patience,
        batch=32,
        lr=1e-3,
        sigma=1.0,
        row_weight="code",
        median_scale=10.0,
        k=8,
        hidden=16,
    )


def test_split_uses_training_statistics_only() -> None:
    s = _split()
    assert len(s.y_train) == 192 and len(s.y_val) == 48 and len(s.y_test) == 60
    assert np.allclose(s.x_train.mean(0), 0, atol=1e-5) and np.allclose(s.y_train.mean(), 0, atol=1e-5)
    assert not np.allclose(s.x_test.mean(0), 0, atol=1e-3)


def test_losses_are_per_model_and_match_direct_computation() -> None:
    task = _task(_split())
    losses = task.training_loss(0)
    assert losses.shape == (5,) and torch.isfinite(losses).all()
    # recompute the CS-IB model's (index 4) and the MSE model's (index 0) losses from the same batch
    idx = task._batch_indices(0)[task.seed_index]
    x, y = task.x_train[idx], task.y_train[idx]
    t, y_hat = task.net(x)
    expected_cs = cs_divergence(x[4], y[4], y_hat[4], 1.0) + 0.1 * cs_qmi(x[4], t[4], 1.0, normalized=True)
    assert float(losses[4]) == pytest.approx(float(expected_cs), rel=1e-5)
    assert float(losses[0]) == pytest.approx(float(((y_hat[0] - y[0]) ** 2).mean()), rel=1e-5)
    # same seed ⇒ same minibatch; different seed ⇒ different minibatch
    assert torch.equal(idx[0], idx[4]) and not torch.equal(idx[0], idx[2])


def _train(task: IBRegressionTask, steps: int) -> int:
    """The loop `fit` runs: a step, then ask whether every model has stopped."""
    opt = task.configure_optimizer()
    for step in range(steps):
        loss = task.training_loss(step).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if task.should_stop():
            return step + 1
    return steps


def test_best_validation_weights_and_fgsm() -> None:
    task = _task(_split())
    assert _train(task, 12) == 12 and not task.should_stop()
    task.finish()
    assert task.eval_steps[: int(task.n_evaluated)].tolist() == [0, 2, 4, 6, 8, 10, 12]
    best_val = task.best_val.clone()
    task.restore_best()
    val, _ = task.errors(task.x_val, task.y_val)
    assert torch.allclose(val, best_val, rtol=1e-5)
    n = int(task.n_evaluated)
    assert torch.allclose(task.best_test_over_evals, torch.nanquantile(task.test_curve[:n], 0.0, dim=0))
    steps, vals, _ = task.curve(0)
    assert steps[-1] == 12 and min(vals) == pytest.approx(float(best_val[0]))
    fgsm = task.fgsm_rmse([0.0, 0.5], task.x_test, task.y_test)
    clean, _ = task.errors(task.x_test, task.y_test)
    assert np.allclose(fgsm[0], clean.numpy(), rtol=1e-5)
    assert (fgsm[1] > fgsm[0]).all()


def test_early_stopping_freezes_each_model_and_ends_the_job() -> None:
    """With a learning rate too large to improve, every model stops `patience` steps after its best."""
    task = _task(_split(), max_steps=200, patience=4)
    task.lr = 0.05
    done = _train(task, 200)
    assert done < 200 and task.should_stop()
    task.finish()
    assert ((task.stop_step - task.best_step) >= 4).all()
    for i in range(len(task.runs)):
        steps, vals, _ = task.curve(i)
        assert steps[-1] == int(task.stop_step[i]) and all(np.isfinite(vals))
    # a stopped model's loss is not computed: 0 and no gradient through it
    task.stopped[1:] = True
    task.stopped[0] = False
    losses = task.training_loss(done)
    assert float(losses[1:].abs().sum()) == 0.0 and losses.requires_grad


def test_fit_returns_early_once_every_model_has_stopped() -> None:
    """`paperdag.training.fit` asks the task's `should_stop()` after each step and ends normally."""
    from paperdag.training import fit

    task = _task(_split(), max_steps=400, patience=4)
    task.lr = 0.05
    fit(task, steps=400, label="cs_ib test", run_labels=[r.method for r in task.runs], log_every=2)
    assert task.should_stop() and int(task.steps_done) < 400


def test_compaction_changes_cost_only(tmp_path) -> None:
    """Going on with the live models alone once most have stopped gives every model the same stop
    step, curve and best validation RMSE as the uncompacted job (up to Adam's float rounding), and
    the job's logged losses at the same steps."""
    import types

    from paperdag.papers.cs_ib.stages import _fit_compacting

    out = {}
    for frac in (0.0, 0.8):
        task = _task(_split(), max_steps=300, patience=6)
        task.lr, task.compact_below = 0.03, frac
        job = types.SimpleNamespace(
            cfg={"training": {"max_steps": 300, "checkpoint_every": 1000, "eval_every": 2}},
            label=f"compact {frac}",
            config_hash="h",
            checkpoint_dir=lambda frac=frac: tmp_path / str(frac),
        )
        history = _fit_compacting(task, job, [r.method for r in task.runs], "cpu")
        task.finish()
        rounds = len(list((tmp_path / str(frac) / "h").glob("round*")))
        out[frac] = (task.stop_step.clone(), task.best_val.clone(), task.val_curve.clone(), history, rounds)
    (stop0, best0, curve0, hist0, rounds0), (stop1, best1, curve1, hist1, rounds1) = out[0.0], out[0.8]
    assert rounds0 == 0 and rounds1 >= 1  # the second job did compact
    assert torch.equal(stop0, stop1)
    torch.testing.assert_close(best1, best0, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(curve1, curve0, rtol=1e-4, atol=1e-5, equal_nan=True)
    assert [s for s, _ in hist0] == [s for s, _ in hist1]
    np.testing.assert_allclose([v for _, v in hist1], [v for _, v in hist0], rtol=1e-3, atol=1e-4)


def test_a_compacting_job_resumed_from_its_checkpoints_ends_the_same(tmp_path) -> None:
    """A rerun finds every round's checkpoint (one of them possibly at the round's last step) and
    must replay the same rounds: same stop steps and best validation RMSE."""
    import types

    from paperdag.papers.cs_ib.stages import _fit_compacting

    job = types.SimpleNamespace(
        cfg={"training": {"max_steps": 300, "checkpoint_every": 2, "eval_every": 2}},  # every round end
        label="resume",
        config_hash="h",
        checkpoint_dir=lambda: tmp_path,
    )
    ends = []
    for _ in range(2):
        task = _task(_split(), max_steps=300, patience=2)
        task.lr, task.compact_below = 0.03, 0.8
        _fit_compacting(task, job, [r.method for r in task.runs], "cpu")
        task.finish()
        ends.append((task.stop_step.clone(), task.best_val.clone()))
    assert len(list((tmp_path / "h").glob("round*"))) >= 1
    assert torch.equal(ends[0][0], ends[1][0])
    torch.testing.assert_close(ends[1][1], ends[0][1])
