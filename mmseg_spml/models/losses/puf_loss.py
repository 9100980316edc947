# Copyright (c) mmseg-spml contributors. All rights reserved.
"""PMM's Pretended Under-Fitting (PUF) cross-entropy loss.

PMM (Li et al., "Pseudo-mask Matters in Weakly-supervised Semantic
Segmentation", ICCV 2021) trains the segmentation network on noisy
pseudo-masks. Once the network has fitted most pixels, i.e. the mean
per-pixel cross-entropy drops below ``beta``, the remaining high-loss pixels
are likely noisy labels, so their loss map is modified to "pretend" the
network still under-fits:

* ``'clamp'``: ``l(x) <- min(l(x), k)`` (clamped pixels get no gradient);
* ``'ignore'``: ``l(x) <- 0`` where ``l(x) > k``;
* ``'pow'``: ``l(x) <- l(x) ** k``.

The released code (WSSS_MMSeg, ``cross_entropy_loss.py``) uses
``beta = k = 0.5`` on PASCAL VOC and ``beta = k = 0.8`` on COCO.
"""

from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from mmseg.models.losses.utils import get_class_weight, weight_reduce_loss
from mmseg.registry import MODELS
from torch import Tensor, nn

_MODES = ('clamp', 'ignore', 'pow')
_TRIGGER_MEANS = ('all', 'valid')
_REDUCTIONS = ('none', 'mean', 'sum')


def puf_modify(
    loss: Tensor,
    valid: Tensor,
    mode: str = 'clamp',
    beta: float = 0.5,
    k: float = 0.5,
    trigger_mean: str = 'all',
) -> Tensor:
    """Apply the PUF switch to a per-pixel loss map.

    The switch fires when the detached mean of ``loss`` is below ``beta``;
    the decision is taken on the device (no host synchronisation) and no
    gradient flows through it.

    Args:
        loss (Tensor): Non-negative per-pixel loss, shape (N, H, W); ignored
            pixels must hold 0.
        valid (Tensor): Bool mask of the non-ignored pixels, shape (N, H, W).
        mode (str): One of ``'clamp'``, ``'ignore'``, ``'pow'``.
        beta (float): Threshold on the mean loss that triggers the switch.
        k (float): Clamp value (``'clamp'``), drop threshold (``'ignore'``)
            or exponent (``'pow'``).
        trigger_mean (str): ``'all'`` averages over every pixel, ignored
            ones included (they count as 0, the reference behaviour);
            ``'valid'`` averages over the non-ignored pixels only (never
            triggers when there are none).

    Returns:
        Tensor: The (possibly) modified loss map, shape (N, H, W).
    """
    detached = loss.detach()
    if trigger_mean == 'all':
        triggered = detached.mean() < beta
    else:
        n_valid = valid.sum()
        mean = detached.sum() / n_valid.clamp_min(1)
        triggered = (mean < beta) & (n_valid > 0)

    if mode == 'clamp':
        modified = loss.clamp(max=k)
    elif mode == 'ignore':
        modified = torch.where(detached > k, torch.zeros_like(loss), loss)
    else:
        # ``0 ** k`` has an infinite derivative for k < 1, and ``0 * inf``
        # would poison the gradient with NaN: take the power of positive
        # entries only (0 stays 0, with zero gradient).
        positive = detached > 0
        safe = torch.where(positive, loss, torch.ones_like(loss))
        modified = torch.where(positive, safe.pow(k), torch.zeros_like(loss))
    return torch.where(triggered, modified, loss)


@MODELS.register_module()
class PUFLoss(nn.Module):
    """Cross-entropy with PMM's Pretended Under-Fitting switch.

    The per-pixel cross-entropy map ``l`` (class-weighted if
    ``class_weight`` is given, 0 at ignored pixels) is computed first. If
    its detached mean is below ``beta``, ``l`` is modified according to
    ``mode`` (see :func:`puf_modify`); otherwise it is left unchanged. The
    map is then weighted and reduced exactly like MMSeg's
    :class:`~mmseg.models.losses.CrossEntropyLoss` (``cross_entropy`` +
    ``weight_reduce_loss``), so that when the switch does not fire the two
    losses agree.

    Hyper-parameters of the paper's released code: PASCAL VOC
    ``beta = k = 0.5``; COCO ``beta = k = 0.8``.

    Args:
        mode (str): ``'clamp'`` (``l <- min(l, k)``), ``'ignore'``
            (``l <- 0`` where ``l > k``) or ``'pow'`` (``l <- l ** k``).
            Defaults to ``'clamp'``.
        beta (float): The switch fires when the mean loss is below
            ``beta``. Defaults to 0.5.
        k (float): Clamp value, drop threshold or exponent, depending on
            ``mode``. Defaults to 0.5.
        trigger_mean (str): Pixels averaged for the trigger. ``'all'``
            (reference behaviour): every pixel, ignored ones counting as 0,
            so many ignored pixels make the switch fire earlier;
            ``'valid'``: non-ignored pixels only. Defaults to ``'all'``.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to
            ``'mean'``.
        class_weight (list[float] | str, optional): Weight of each class,
            or a file to read them from. Defaults to None.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; must start with ``'loss_'``.
            Defaults to ``'loss_puf'``.
        avg_non_ignore (bool): Average the ``'mean'`` reduction over the
            non-ignored pixels only (as MMSeg). Defaults to False.

    Note:
        With ``class_weight``, ``'mean'`` and ``avg_non_ignore=False``, each
        ignored pixel counts 1 in the denominator (MMSeg would index
        ``class_weight`` with ``ignore_index`` and fail for e.g. 255).
    """

    def __init__(
        self,
        mode: str = 'clamp',
        beta: float = 0.5,
        k: float = 0.5,
        trigger_mean: str = 'all',
        reduction: str = 'mean',
        class_weight: Optional[Union[List[float], str]] = None,
        loss_weight: float = 1.0,
        loss_name: str = 'loss_puf',
        avg_non_ignore: bool = False,
    ) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f'mode must be one of {_MODES}, got {mode!r}')
        if trigger_mean not in _TRIGGER_MEANS:
            raise ValueError(
                f'trigger_mean must be one of {_TRIGGER_MEANS}, '
                f'got {trigger_mean!r}'
            )
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f'reduction must be one of {_REDUCTIONS}, got {reduction!r}'
            )
        if not beta >= 0:
            raise ValueError(f'beta must be non-negative, got {beta}')
        if not k >= 0:
            raise ValueError(f'k must be non-negative, got {k}')
        if not (isinstance(loss_name, str) and loss_name.startswith('loss_')):
            raise ValueError(
                f"loss_name must start with 'loss_', got {loss_name!r}"
            )
        self.mode = mode
        self.beta = float(beta)
        self.k = float(k)
        self.trigger_mean = trigger_mean
        self.reduction = reduction
        self.class_weight = get_class_weight(class_weight)
        self.loss_weight = loss_weight
        self.avg_non_ignore = avg_non_ignore
        self._loss_name = loss_name

    def extra_repr(self) -> str:
        """Extra repr."""
        return (
            f'mode={self.mode!r}, beta={self.beta}, k={self.k}, '
            f'trigger_mean={self.trigger_mean!r}, '
            f'avg_non_ignore={self.avg_non_ignore}'
        )

    def forward(
        self,
        cls_score: Tensor,
        label: Tensor,
        weight: Optional[Tensor] = None,
        ignore_index: Optional[int] = 255,
        avg_factor: Optional[Union[int, float, Tensor]] = None,
        reduction_override: Optional[str] = None,
        **kwargs,
    ) -> Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): Logits, shape (N, C, H, W).
            label (Tensor): Class indices (long), shape (N, H, W).
            weight (Tensor, optional): Pixel-wise weight, shape (N, H, W).
                Defaults to None.
            ignore_index (int, optional): Label ignored by the loss; None
                means PyTorch's -100. Defaults to 255.
            avg_factor (int | float | Tensor, optional): Denominator of the
                ``'mean'`` reduction. Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
                Defaults to None.

        Returns:
            Tensor: Scalar loss, or the (N, H, W) map for ``'none'``.
        """
        if reduction_override not in (None,) + _REDUCTIONS:
            raise ValueError(
                f'reduction_override must be None or one of {_REDUCTIONS}, '
                f'got {reduction_override!r}'
            )
        reduction = reduction_override or self.reduction
        if ignore_index is None:
            ignore_index = -100
        class_weight = None
        if self.class_weight is not None:
            class_weight = cls_score.new_tensor(self.class_weight)

        loss = F.cross_entropy(
            cls_score,
            label,
            weight=class_weight,
            reduction='none',
            ignore_index=ignore_index,
        )
        valid = label != ignore_index
        loss = puf_modify(
            loss, valid, self.mode, self.beta, self.k, self.trigger_mean
        )

        # Same denominator as mmseg's ``cross_entropy``.
        if avg_factor is None and reduction == 'mean':
            if class_weight is None:
                if self.avg_non_ignore:
                    avg_factor = valid.sum().item()
                else:
                    avg_factor = label.numel()
            else:
                safe_label = torch.where(valid, label, torch.zeros_like(label))
                label_weights = class_weight[safe_label]
                ignored_weight = 0.0 if self.avg_non_ignore else 1.0
                label_weights = torch.where(
                    valid,
                    label_weights,
                    label_weights.new_tensor(ignored_weight),
                )
                avg_factor = label_weights.sum()

        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor
        )
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """Name of the loss item (``'loss_'`` prefixed, so it is summed into
        the total loss).

        Returns:
            str: The name of this loss item.
        """
        return self._loss_name
