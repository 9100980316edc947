# Copyright (c) mmseg-spml contributors. All rights reserved.
"""One data-set sample through a segmentor's data preprocessor, as the
offline tools feed images one at a time."""

from torch import Tensor, nn


def preprocess_sample(model: nn.Module, data: dict) -> Tensor:
    """The normalised, padded image of one sample, on the model's device.

    Args:
        model (nn.Module): A segmentor with a ``data_preprocessor``.
        data (dict): The sample as a data set gives it: ``inputs`` (3, H, W)
            and ``data_samples`` (SegDataSample).

    Returns:
        Tensor: (1, 3, H', W') float, ``H' >= H`` and ``W' >= W`` where the
        preprocessor pads.
    """
    batch = model.data_preprocessor(
        dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
        False,
    )
    device = next(model.parameters()).device
    return batch['inputs'].to(device)
