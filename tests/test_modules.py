"""The torch modules: dropout's mask and the modes of a progressive net."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_prognet import ProgressiveNetClassifier
from sklearn_prognet.networks._modules import (
    ColumnSpec,
    FastDropout,
    ProgressiveNet,
    SmoothedCrossEntropyLoss,
    keep_mask,
    smoothed_cross_entropy,
)


@pytest.mark.parametrize("p", [0.5, 0.2, 0.9])
def test_keep_mask_is_inverted_bernoulli(p):
    torch.manual_seed(0)
    mask = keep_mask(torch.empty(4096, 256), p)
    scale = 1 / (1 - p)
    kept = mask != 0
    assert torch.allclose(mask[kept], torch.tensor(scale))
    # 1M units: the standard error of the keep rate is below 0.0005
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.003)
    # every unit position, and so every bit of a 32-bit draw, is a fair coin
    per_unit = kept.float().mean(dim=0).numpy()
    sd = np.sqrt(p * (1 - p) / 4096)
    assert np.abs(per_unit - (1 - p)).max() < 5 * sd
    # neighbouring units (bits of one draw) and rows are independent
    both = (kept[:, :-1] & kept[:, 1:]).float().mean().item()
    assert both == pytest.approx((1 - p) ** 2, abs=0.004)
    both_rows = (kept[:-1] & kept[1:]).float().mean().item()
    assert both_rows == pytest.approx((1 - p) ** 2, abs=0.004)


@pytest.mark.parametrize("shape", [(3, 5), (1, 1), (7, 33)])
def test_keep_mask_shape_dtype_and_seed(shape):
    x = torch.ones(shape, dtype=torch.float64)
    torch.manual_seed(3)
    first = keep_mask(x, 0.5)
    torch.manual_seed(3)
    second = keep_mask(x, 0.5)
    assert first.shape == x.shape
    assert first.dtype == torch.float64
    assert torch.equal(first, second)


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_fast_dropout_modes_and_gradient(p):
    dropout = FastDropout(p)
    x = torch.randn(64, 40, requires_grad=True)
    assert dropout.eval()(x) is x
    assert FastDropout(0.0).train()(x) is x
    torch.manual_seed(0)
    out = dropout.train()(x)
    out.sum().backward()
    # by hand, not with keep_mask: a share p of the units is 0, the rest is
    # x / (1 - p), and the gradient is the same mask
    kept = out != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.04)
    scale = 1 / (1 - p)
    torch.testing.assert_close(out[kept], x[kept] * scale)
    torch.testing.assert_close(x.grad, kept.float() * scale)
    # inverted dropout keeps the expectation of the activations
    torch.manual_seed(1)
    assert dropout(torch.ones(1000, 1000)).mean().item() == pytest.approx(1, abs=0.01)


def test_frozen_columns_are_in_eval_mode_from_construction():
    column = ((8,), 2, "sigmoid", (), "linear")
    net = ProgressiveNet(4, [column, ((8,), 3, "sigmoid", (0,), "linear")], 1)
    assert net.training and net.columns[1].training
    assert not any(m.training for m in net.columns[0].modules())


def test_trainer_switches_the_whole_tree(small_data):
    X, y, speaker = small_data
    fast = {"hidden_layer_sizes": (8,), "max_epochs": 2, "random_state": 0}
    source = ProgressiveNetClassifier(**fast).fit(X, speaker)
    net = ProgressiveNetClassifier(sources=[source], **fast).fit(X, y).net_
    frozen, trainable = net.module_.columns
    for training in [True, False, True, False]:
        net._set_training(training)
        assert all(m.training == training for m in trainable.modules())
        assert all(m.training == training for m in net.criterion_.modules())
        assert not any(m.training for m in frozen.modules())


def test_column_specs_are_named_and_plain_tuples_are_accepted():
    source = ColumnSpec((8, 4), 2, "tanh", (), "linear")
    net = ProgressiveNet(5, [tuple(source), ((6,), 3, "relu", (0,), "adapter")], 1)
    assert net.specs == (source, ColumnSpec((6,), 3, "relu", (0,), "adapter"))
    assert all(isinstance(spec, ColumnSpec) for spec in net.specs)
    assert [layer.out_features for layer in net.columns[0].hidden] == [8, 4]
    # the new column's single hidden layer feeds its output from layer 0 of
    # the source; the source's layer 1 has no receiver
    assert [len(lats) for lats in net.columns[1].laterals] == [1]


def test_a_module_pickled_with_plain_tuple_specs_still_runs():
    """Modules pickled before ColumnSpec existed hold plain tuples."""
    torch.manual_seed(0)
    specs = [
        ((8, 4), 2, "sigmoid", (), "linear"),
        ((8, 4), 3, "sigmoid", (0,), "linear"),
    ]
    net = ProgressiveNet(5, specs, 1).eval()
    net.specs = tuple(tuple(spec) for spec in net.specs)  # the old format
    loaded = pickle.loads(pickle.dumps(net))
    assert all(isinstance(spec, ColumnSpec) for spec in loaded.specs)
    x = torch.randn(7, 5)
    frozen = torch.cat(loaded._columns_hidden(x, 1)[0], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, frozen=frozen), net(x))


# -- smoothed_cross_entropy ---------------------------------------------------


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.4])
def test_smoothed_cross_entropy_is_torchs_on_finite_logits(smoothing):
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(64, 4, generator=gen) * 3
    y = torch.randint(4, (64,), generator=gen)
    torch_loss = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
    ours = SmoothedCrossEntropyLoss(label_smoothing=smoothing)
    torch.testing.assert_close(ours(logits, y), torch_loss(logits, y))
    torch.testing.assert_close(
        smoothed_cross_entropy(logits, y, smoothing, reduction="none"),
        torch.nn.functional.cross_entropy(
            logits, y, reduction="none", label_smoothing=smoothing
        ),
    )
    assert isinstance(ours, torch.nn.CrossEntropyLoss)  # skorch's softmax


def test_smoothed_cross_entropy_spreads_over_each_rows_own_classes():
    inf = float("inf")
    logits = torch.tensor([[1.0, -inf, 0.0], [2.0, 0.0, -1.0]], requires_grad=True)
    y = torch.tensor([0, 2])
    eps = 0.2
    # row 0, own classes {0, 2}: log p = (1, 0) - log(e + 1)
    lse0 = np.log(np.e + 1)
    row0 = (1 - eps) * (lse0 - 1) + eps / 2 * ((lse0 - 1) + lse0)
    # row 1, all three classes, as torch
    lse1 = np.log(np.exp(2) + 1 + np.exp(-1))
    row1 = (1 - eps) * (lse1 + 1) + eps / 3 * (3 * lse1 - 2 - 0 + 1)
    losses = smoothed_cross_entropy(logits, y, eps, reduction="none")
    np.testing.assert_allclose(losses.detach().numpy(), [row0, row1], rtol=1e-6)
    loss = SmoothedCrossEntropyLoss(label_smoothing=eps)(logits, y)
    np.testing.assert_allclose(loss.item(), (row0 + row1) / 2, rtol=1e-6)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0, 1] == 0
