"""The digits stand-in of `gda`: splits, pools, generators and classifier pieces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paperdag.papers.gda.classifier import BatchedClassifier
from paperdag.papers.gda.digits import held_out, load, nested_subsets
from paperdag.papers.gda.generators import ClassGaussian, ConditionalGAN, balanced_class_labels
from paperdag.papers.gda.pools import PoolSampler
from paperdag.papers.gda.stages import classifier_steps

torch.set_num_threads(1)  # the machine is shared; tiny tensors gain nothing from threads


@pytest.fixture(scope="module")
def digits():
    return load("digits8", 700, split_seed=0)


def test_split_and_subsets_are_stratified_and_nested(digits) -> None:
    assert np.bincount(digits.y_test, minlength=10).tolist() == [70] * 10
    assert len(digits.x_pool) + len(digits.x_test) == 1797
    assert digits.x_pool.min() >= 0 and digits.x_pool.max() <= 1
    subs = nested_subsets(digits.y_pool, [100, 300, 1000], seed=3)
    for m, idx in subs.items():
        assert np.bincount(digits.y_pool[idx], minlength=10).tolist() == [m // 10] * 10
    assert set(subs[100]) <= set(subs[300]) <= set(subs[1000])
    assert not np.array_equal(subs[100], nested_subsets(digits.y_pool, [100], seed=4)[100])


def test_mnist5k_loads_real_digits() -> None:
    data = load("mnist5k", 1000, split_seed=0)
    assert data.x_pool.shape == (4000, 784) and data.side == 28
    assert np.bincount(data.y_pool).tolist() == [400] * 10


def test_pool_sampler_draws_only_from_each_pool() -> None:
    x = np.arange(20, dtype=np.float32)[:, None]
    sampler = PoolSampler(x, np.zeros(20, dtype=int), [np.array([3, 4]), np.arange(10, 20)])
    xb, _ = sampler.sample(500, torch.Generator().manual_seed(0))
    assert set(xb[0, :, 0].tolist()) == {3.0, 4.0}
    assert set(xb[1, :, 0].tolist()) == set(range(10, 20))
    assert sampler.pool(0)[0][:, 0].tolist() == [3.0, 4.0]


def test_class_gaussian_matches_ledoit_wolf_and_is_balanced(digits) -> None:
    from sklearn.covariance import LedoitWolf

    model = ClassGaussian.fit(digits.x_pool, digits.y_pool)
    x3 = digits.x_pool[digits.y_pool == 3].astype(np.float64)
    np.testing.assert_allclose(model.chols[3] @ model.chols[3].T, LedoitWolf().fit(x3).covariance_ + 1e-9 * np.eye(64), atol=1e-8)
    np.testing.assert_allclose(model.means[3], x3.mean(0))
    samples = model.sample(1000, np.random.default_rng(0))
    assert samples.shape == (1000, 64) and samples.min() >= 0 and samples.max() <= 1
    labels = balanced_class_labels(1000)
    assert np.bincount(labels).tolist() == [100] * 10
    assert np.bincount(balanced_class_labels(50)).tolist() == [5] * 10  # every multiple-of-10 prefix balanced
    # mean of class-3 samples is close to the class mean (clipping moves it a little)
    assert np.abs(samples[labels == 3].mean(0) - x3.mean(0)).mean() < 0.05


def test_cgan_alternates_discriminator_and_generator_updates(digits) -> None:
    sampler = PoolSampler(digits.x_pool, digits.y_pool, [np.arange(100), np.arange(200)])
    gan = ConditionalGAN(sampler, [0, 1], z_dim=8, hidden=16, batch=4, lr=1e-3, beta1=0.5, seed=0)
    loss = gan.training_loss(0)
    assert loss.shape == (2,)
    loss.sum().backward()
    assert all(p.grad is None for p in gan.G.parameters()) and all(p.grad is not None for p in gan.D.parameters())
    gan.zero_grad(set_to_none=True)
    gan.training_loss(1).sum().backward()
    assert all(p.grad is not None for p in gan.G.parameters()) and all(p.grad is None for p in gan.D.parameters())
    # (torch's Adam skips parameters whose .grad is None, so each step updates one network only;
    #  not exercised here: building an optimizer first imports torch._dynamo, seconds of wall time)
    out = gan.sample(30, seed=0)
    assert out.shape == (2, 30, 64) and out.min() >= 0 and out.max() <= 1


def test_classifier_heads_match_batched_forward(digits) -> None:
    sampler = PoolSampler(digits.x_pool, digits.y_pool, [np.arange(50)] * 3)
    clf = BatchedClassifier(sampler, [0, 1, 2], hidden=8, batch=4, lr=1e-3, weight_decay=0.0, seed=0)
    x = torch.as_tensor(digits.x_test[:5])
    full = clf.net(x.expand(3, 5, 64))
    for k in range(3):
        torch.testing.assert_close(clf.logits(k, x), full[k])
    acc, ce = clf.evaluate(1, x, torch.as_tensor(digits.y_test[:5]))
    ref = torch.nn.functional.cross_entropy(full[1], torch.as_tensor(digits.y_test[:5]))
    assert ce == pytest.approx(float(ref.detach())) and 0 <= acc <= 1
    assert clf.training_loss(0).shape == (3,)


def test_generator_batch_norm_matches_torch_training_mode() -> None:
    from paperdag.papers.gda.generators import _batch_norm

    h = torch.randn(3, 50, 7, generator=torch.Generator().manual_seed(0)) * 4 + 2
    for k in range(3):  # each model normalised over its own batch
        ref = torch.nn.functional.batch_norm(h[k], None, None, training=True, eps=1e-5)
        torch.testing.assert_close(_batch_norm(h)[k], ref)


def test_validation_split_and_held_out_control_images_are_disjoint_and_balanced() -> None:
    data = load("digits8", 500, split_seed=0, n_val=300)
    assert np.bincount(data.y_val, minlength=10).tolist() == [30] * 10
    assert len(data.x_pool) + len(data.x_val) + len(data.x_test) == 1797
    rows = {tuple(r) for r in np.round(data.x_val, 4)}
    assert sum(tuple(r) in rows for r in np.round(data.x_pool, 4)) < 20  # only the few duplicate images of load_digits
    sub = nested_subsets(data.y_pool, [50, 150], seed=1)[150]
    idx = held_out(data.y_pool, sub, 750, seed=1)
    assert not set(idx) & set(sub) and len(set(idx)) == 750
    for n in (150, 750):  # every γ·m prefix is class-balanced
        assert np.bincount(data.y_pool[idx[:n]], minlength=10).tolist() == [n // 10] * 10
    with pytest.raises(ValueError, match="held-out images"):
        held_out(data.y_pool, sub, 1000, seed=1)


def test_epoch_matched_steps_grow_with_the_training_set() -> None:
    assert classifier_steps(300, 50, 64) == 235 and classifier_steps(300, 6 * 50, 64) == 1407
    assert classifier_steps(1, 64, 64) == 1


def test_validation_error_is_each_models_own(digits) -> None:
    sampler = PoolSampler(digits.x_pool, digits.y_pool, [np.arange(50)] * 2)
    clf = BatchedClassifier(
        sampler, [0, 1], hidden=8, batch=4, lr=1e-3, weight_decay=0.0, seed=0, val=(digits.x_test[:40], digits.y_test[:40])
    )
    err = clf.validation_metric()
    x, y = torch.as_tensor(digits.x_test[:40]), torch.as_tensor(digits.y_test[:40])
    assert err.tolist() == pytest.approx([1 - clf.evaluate(k, x, y)[0] for k in range(2)])


def test_cosine_schedule_anneals_the_classifier_to_zero(digits) -> None:
    sampler = PoolSampler(digits.x_pool, digits.y_pool, [np.arange(50)])
    clf = BatchedClassifier(sampler, [0], hidden=8, batch=4, lr=1e-3, weight_decay=0.0, seed=0, cosine_steps=10)
    opt, sched = clf.configure_optimizer()
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-3) and opt.param_groups[0]["lr"] == pytest.approx(0, abs=1e-12)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    constant = BatchedClassifier(sampler, [0], hidden=8, batch=4, lr=1e-3, weight_decay=0.0, seed=0)
    assert isinstance(constant.configure_optimizer(), torch.optim.Adam)
