# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""torch losses of multi-task learning: emotion classes and dimensional ratings.

The classifiers can also learn continuous ratings (arousal, valence,
dominance) with a regression head on the last hidden layer of the trained
column. The loss of a batch is

    cross-entropy + dimensional_weight * dimensional loss,

where the dimensional loss is a mean squared error or ``1 - CCC``, computed
on the ratings that are present: a missing rating is NaN and contributes
neither to the loss nor to its gradient. Nothing here knows about
scikit-learn or skorch. The training loop (:mod:`sklearn_prognet.networks._batched`)
applies :data:`DIMENSIONAL_LOSSES` to each model's rows of a batch;
:class:`MultiTaskLoss`, the same sum for one module, is the criterion that a
multi-task net records (:class:`~sklearn_prognet.networks._training.MultiTaskTrainer`),
with targets ``{"y": labels, "dimensions": ratings}``.
"""

import torch
from torch import nn

from sklearn_prognet.networks._modules import smoothed_cross_entropy

__all__ = ["DIMENSIONAL_LOSSES", "MultiTaskLoss", "masked_ccc_loss", "masked_mse"]


def _masked(pred, target):
    """The mask of observed ratings, the ratings with 0 for NaN, and counts.

    NaN ratings are replaced *before* any arithmetic with the predictions:
    ``torch.where`` over a NaN difference would still send ``0 * NaN = NaN``
    back to the predictions' gradient.
    """
    mask = ~torch.isnan(target)
    weights = mask.to(pred.dtype)
    return weights, torch.where(mask, target, torch.zeros_like(target)), weights.sum(0)


def masked_mse(pred, target):
    """Mean squared error per dimension over the observed ratings, averaged.

    Parameters
    ----------
    pred : torch.Tensor of shape (n_samples, n_dims)
        Predicted ratings.
    target : torch.Tensor of shape (n_samples, n_dims)
        Ratings; NaN where missing.

    Returns
    -------
    loss : torch.Tensor
        A scalar: the mean over the dimensions with at least one rating of
        their mean squared error; 0 (with a zero gradient) when the batch
        has no rating at all.
    """
    weights, target, counts = _masked(pred, target)
    squared = ((pred - target) ** 2 * weights).sum(0)
    present = counts > 0
    per_dim = squared[present] / counts[present]
    return per_dim.mean() if len(per_dim) else pred.sum() * 0.0


def masked_ccc_loss(pred, target, eps=1e-8):
    """``1 - CCC`` per dimension over the observed ratings, averaged.

    The concordance correlation coefficient (Lin 1989) with population
    moments (``ddof=0``), over the ratings present in the batch. A dimension
    with fewer than two ratings in the batch has no CCC and is left out.

    Parameters
    ----------
    pred, target
        As in :func:`masked_mse`.
    eps : float, default=1e-8
        Added to the denominator, which is 0 only for constant, equal
        predictions and ratings.

    Returns
    -------
    loss : torch.Tensor
        A scalar in [0, 2]; 0 (with a zero gradient) when no dimension has
        two ratings in the batch.
    """
    weights, target, counts = _masked(pred, target)
    present = counts > 1
    if not present.any():
        return pred.sum() * 0.0
    weights, pred, target = weights[:, present], pred[:, present], target[:, present]
    n = counts[present]
    mean_p = (pred * weights).sum(0) / n
    mean_t = (target * weights).sum(0) / n
    dev_p = (pred - mean_p) * weights
    dev_t = (target - mean_t) * weights
    var_p = (dev_p**2).sum(0) / n
    var_t = (dev_t**2).sum(0) / n
    cov = (dev_p * dev_t).sum(0) / n
    ccc = 2 * cov / (var_p + var_t + (mean_p - mean_t) ** 2 + eps)
    return (1 - ccc).mean()


DIMENSIONAL_LOSSES = {"mse": masked_mse, "ccc": masked_ccc_loss}


class MultiTaskLoss(nn.Module):
    """Cross-entropy of the classes plus a weighted loss on the ratings.

    Parameters
    ----------
    weight : float
        ``dimensional_weight``, the weight of the dimensional loss.
    kind : {"mse", "ccc"}
        The dimensional loss, a key of ``DIMENSIONAL_LOSSES``.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy, over each row's own classes
        (:func:`~sklearn_prognet.networks._modules.smoothed_cross_entropy`).
    """

    def __init__(self, weight=1.0, kind="mse", label_smoothing=0.0):
        super().__init__()
        self.weight = float(weight)
        self.kind = kind
        self.label_smoothing = float(label_smoothing)

    def forward(self, y_pred, y_true):
        """The loss of a batch.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            ``(logits, predicted_ratings)``, the module's output.
        y_true : dict or torch.Tensor
            ``{"y": labels, "dimensions": ratings}`` while training; labels
            alone on validation data, whose loss is the cross-entropy only.
        """
        logits, ratings = y_pred
        smoothing = self.label_smoothing
        if not isinstance(y_true, dict):
            return smoothed_cross_entropy(logits, y_true, smoothing)
        loss = smoothed_cross_entropy(logits, y_true["y"], smoothing)
        dimensional = DIMENSIONAL_LOSSES[self.kind](ratings, y_true["dimensions"])
        return loss + self.weight * dimensional
