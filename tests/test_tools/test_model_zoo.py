# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Model-zoo tooling: tools/misc/publish_model.py, tools/demo/image_demo.py,
MMSeg's inferencer on our configs, and configs/spml/{README.md,
metafile.yaml}."""

import glob
import hashlib
import os
import os.path as osp
import re

import mmcv
import numpy as np
import pytest
import torch
import yaml

import mmseg_spml  # noqa: F401  (checkpoint allow-list for torch.load)
from mmseg_spml.apis import (
    build_trained_model,
    publish_checkpoint,
    resolve_dataset_meta,
)
from tests.helpers.tools import (
    ROOT,
    TINY_CONFIG,
    load_tool,
    python_tool,
    run,
)

TINY_SPML = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_spml.py')
ZOO = osp.join(ROOT, 'configs', 'spml')
publish_model = load_tool('misc/publish_model.py')


class NotAllowListed:
    """A pickled object the weights-only unpickler must refuse."""


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Two iterations of the tiny SPML config: a real Runner checkpoint
    (optimizer, schedulers, message hub, meta) and the demo data."""
    tmp = tmp_path_factory.mktemp('zoo')
    data, work = str(tmp / 'data'), str(tmp / 'work')
    run(python_tool('train.py', TINY_SPML, '--work-dir', work), data)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    return dict(data=data, ckpt=ckpt, tmp=tmp)


@pytest.fixture(scope='module')
def published(trained):
    out = osp.join(str(trained['tmp']), 'publish', 'tiny_spml.pth')
    return publish_checkpoint(trained['ckpt'], out)


@pytest.fixture(scope='module')
def image(trained):
    """A non-square (40 x 48) demo image, so a transposed output shows."""
    jpgs = sorted(
        glob.glob(osp.join(trained['data'], '*', 'JPEGImages', '*.jpg'))
    )
    assert jpgs, f'no demo images under {trained["data"]}'
    path = osp.join(str(trained['tmp']), 'input_48x40.jpg')
    mmcv.imwrite(mmcv.imresize(mmcv.imread(jpgs[0]), (48, 40)), path)
    return path


@pytest.mark.slow
def test_publish_strips_training_state_and_names_by_hash(
    trained, tmp_path, capsys
):
    out = tmp_path / 'pub' / 'tiny_spml.pth'
    assert publish_model.main([trained['ckpt'], str(out)]) == 0
    captured = capsys.readouterr()
    final = captured.out.strip()  # stdout is the final path only
    assert re.fullmatch(r'tiny_spml-[0-9a-f]{8}\.pth', osp.basename(final))
    assert 'optimizer' in captured.err  # the summary names what went
    with open(final, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert final.endswith(f'-{sha[:8]}.pth')
    assert os.listdir(tmp_path / 'pub') == [osp.basename(final)]  # no tmp

    source = torch.load(trained['ckpt'], map_location='cpu')
    assert {'optimizer', 'param_schedulers', 'message_hub'} <= set(source)
    ckpt = torch.load(final, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta']['dataset_meta'] == source['meta']['dataset_meta']
    assert ckpt['meta']['iter'] == 2
    assert ckpt['state_dict'].keys() == source['state_dict'].keys()
    for key, value in source['state_dict'].items():
        assert torch.equal(ckpt['state_dict'][key], value), key
    assert osp.getsize(final) < osp.getsize(trained['ckpt'])
    # Reproducible: the same input gives the same bytes, hence the same name.
    again = publish_checkpoint(
        trained['ckpt'], str(tmp_path / 'again' / 'tiny_spml.pth')
    )
    assert osp.basename(again) == osp.basename(final)


@pytest.mark.slow
def test_published_checkpoint_loads_with_init_model(trained, published):
    from mmengine.runner import load_checkpoint
    from mmseg.apis import init_model

    model = init_model(TINY_SPML, published, device='cpu')
    assert type(model).__name__ == 'SPMLEncoderDecoder'
    assert model.dataset_meta['classes'][0] == 'background'
    state = torch.load(published, map_location='cpu')['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    # mmengine's loader, as load_from / tools/test.py use it.
    meta = load_checkpoint(model, published, map_location='cpu')['meta']
    assert meta['iter'] == 2


def test_publish_plain_state_dict(tmp_path, capsys):
    src = tmp_path / 'weights.pth'
    torch.save({'conv.weight': torch.ones(2, 2)}, src)
    out = str(tmp_path / 'out.pth')
    assert publish_model.main([str(src), out]) == 0
    final = capsys.readouterr().out.strip()
    ckpt = torch.load(final, weights_only=True)
    assert ckpt['meta'] == {} and torch.equal(
        ckpt['state_dict']['conv.weight'], torch.ones(2, 2)
    )


@pytest.mark.parametrize(
    'content, message',
    [
        (None, 'does not exist'),
        (b'not a checkpoint\n', 'is not a checkpoint that torch.load'),
        (b'', 'EOFError'),
        ([1, 2], 'holds a list, not a checkpoint'),
        ({'epoch': 3}, "no 'state_dict'"),
        ({'state_dict': {}}, "empty 'state_dict'"),
        ({'state_dict': {'w': 1.0}}, 'are not tensors'),
        (
            {'state_dict': {'w': torch.ones(1)}, 'x': NotAllowListed()},
            'Unsupported global',
        ),
    ],
)
def test_publish_rejects_non_checkpoints(tmp_path, capsys, content, message):
    src = tmp_path / 'in.pth'
    if isinstance(content, bytes):
        src.write_bytes(content)
    elif content is not None:
        torch.save(content, src)
    out_dir = tmp_path / 'out'
    assert publish_model.main([str(src), str(out_dir / 'm.pth')]) == 1
    captured = capsys.readouterr()
    assert captured.out == ''
    assert captured.err.startswith('error: ') and str(src) in captured.err
    assert message in captured.err
    assert not out_dir.exists() or not os.listdir(out_dir)


@pytest.mark.slow
def test_image_demo_spml_overlay(trained, published, image, tmp_path):
    """A fresh process, as a user runs it: the SPML segmentor, the
    published checkpoint, class names drawn."""
    out = str(tmp_path / 'overlay.png')
    proc = run(
        python_tool(
            'demo/image_demo.py',
            image,
            TINY_SPML,
            published,
            '--out',
            out,
            '--device',
            'cpu',
            '--opacity',
            '0.7',
            '--with-labels',
        ),
        trained['data'],
    )
    assert f'written to {out}' in proc.stdout
    overlay = mmcv.imread(out)
    assert overlay.shape == (40, 48, 3)
    assert not np.array_equal(overlay, mmcv.imread(image))
    assert [p for p in os.listdir(tmp_path) if p.endswith('.tmp')] == []


@pytest.mark.slow
def test_image_demo_baseline_from_plain_state_dict(trained, image, tmp_path):
    """The MMSeg baseline config with a bare state dict (no meta, which
    ``init_model(config, checkpoint)`` cannot load): class names from the
    config's data set, not guessed from their number (LoveDA has 7)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    bare = str(tmp_path / 'baseline.pth')
    torch.save(model.state_dict(), bare)
    out = str(tmp_path / 'baseline.jpg')
    demo = load_tool('demo/image_demo.py')
    assert demo.main([image, TINY_CONFIG, bare, '--out', out]) == 0
    assert mmcv.imread(out).shape == (40, 48, 3)
    built = build_trained_model(TINY_CONFIG, bare, 'cpu')
    assert built.dataset_meta['classes'][1] == 'striped_ellipse'
    assert not any(
        'SyncBatchNorm' in type(m).__name__ for m in built.modules()
    )


def test_image_demo_class_names_fallback():
    """Checkpoint meta first, then the config's data set, then generic
    names of the decode head's size."""
    from types import SimpleNamespace

    from mmengine.config import Config

    resolve = resolve_dataset_meta
    model = SimpleNamespace(decode_head=SimpleNamespace(num_classes=3))
    own = dict(classes=('a', 'b', 'c'), palette=[[1, 2, 3]] * 3)
    assert resolve(model, dict(dataset_meta=own), Config())['classes'] == [
        'a',
        'b',
        'c',
    ]
    old = dict(CLASSES=('x', 'y', 'z'), PALETTE=[[0, 0, 0]] * 3)
    assert resolve(model, old, Config())['classes'] == ['x', 'y', 'z']
    voc = Config(dict(test_dataloader=dict(dataset=dict(type='X'))))
    wrong = dict(dataset_meta=dict(classes=('a',), palette=[[0, 0, 0]]))
    with pytest.warns(UserWarning, match='class0..class2'):
        meta = resolve(model, wrong, voc)
    assert meta['classes'] == ['class0', 'class1', 'class2']
    assert len(meta['palette']) == 3


@pytest.mark.parametrize(
    'args, message',
    [
        (['missing.jpg', TINY_SPML, 'x.pth', '--out', 'o.png'], 'image'),
        (['{image}', TINY_SPML, 'missing.pth', '--out', 'o.png'], 'ckpt'),
        (['{image}', TINY_SPML, '{image}', '--out', 'o.txt'], 'extension'),
        (['{image}', TINY_SPML, '{image}', '--out', 'o.png'], 'notckpt'),
        (['{config}', TINY_SPML, '{config}', '--out', 'o.png'], 'notimage'),
        (
            [
                '{image}',
                TINY_SPML,
                '{image}',
                '--opacity',
                '0',
                '--out',
                'o.png',
            ],
            'opacity',
        ),
    ],
)
def test_image_demo_argument_errors(tmp_path, capsys, args, message):
    img = tmp_path / 'in.png'
    mmcv.imwrite(np.zeros((8, 8, 3), np.uint8), str(img))
    args = [
        a.replace('{image}', str(img)).replace('{config}', TINY_SPML)
        for a in args
    ]
    args = [str(tmp_path / a) if a.startswith('o.') else a for a in args]
    expected = dict(
        image='image missing.jpg does not exist',
        ckpt='checkpoint missing.pth does not exist',
        extension="unknown image extension '.txt'",
        opacity='--opacity must be in (0, 1]',
        notckpt='not a checkpoint that torch.load(weights_only=True)',
        notimage='could not be decoded',
    )[message]
    assert load_tool('demo/image_demo.py').main(args) == 1
    assert expected in capsys.readouterr().err
    assert os.listdir(tmp_path) == ['in.png']


@pytest.mark.slow
def test_mmseg_inferencer_with_spml_config(published, image, tmp_path):
    """MMSeg's high-level MMSegInferencer builds and runs our segmentor."""
    from mmseg.apis import MMSegInferencer

    inferencer = MMSegInferencer(
        model=TINY_SPML, weights=published, device='cpu'
    )
    result = inferencer(image, return_vis=True, out_dir=str(tmp_path))
    assert result['predictions'].shape == (40, 48)
    assert result['visualization'].shape == (40, 48, 3)
    assert set(np.unique(result['predictions'])) <= set(range(7))


# --- configs/spml/metafile.yaml and README.md ------------------------------


def _metafile() -> dict:
    with open(osp.join(ZOO, 'metafile.yaml')) as f:
        return yaml.safe_load(f)


def test_metafile_names_existing_configs_and_honest_weights():
    meta = _metafile()
    collections = {c['Name']: c for c in meta['Collections']}
    assert 'SPML' in collections
    for collection in collections.values():
        assert osp.isfile(osp.join(ROOT, collection['README']))
    names = [m['Name'] for m in meta['Models']]
    assert len(names) == len(set(names)), 'model names must be unique'
    listed = set()
    for model in meta['Models']:
        name = model['Name']
        assert model['In Collection'] in collections, name
        config = osp.join(ROOT, model['Config'])
        assert osp.isfile(config), f'{name}: {model["Config"]} is missing'
        listed.add(osp.normpath(config))
        source = model['Metadata']['Results Source']
        assert source.startswith(('paper', 'this repository')), name
        for result in model['Results']:
            assert result['Task'] == 'Semantic Segmentation'
            assert result['Dataset']
            assert result['Metrics'], name
            for metric, value in result['Metrics'].items():
                assert isinstance(value, float) and 0 < value < 100, metric
        # No weights are published: either no entry, or a file we ship.
        weights = model.get('Weights')
        if weights is not None:
            assert not re.match(r'[a-z]+://', weights), (
                f'{name}: Weights {weights} is a URL, but none is published'
            )
            assert osp.isfile(osp.join(ROOT, weights)), name
    # Every config of the zoo folder is described.
    configs = glob.glob(osp.join(ZOO, '*.py'))
    assert {osp.normpath(c) for c in configs} <= listed


def test_metafile_paper_numbers_are_labelled():
    """Numbers we did not measure carry the paper's table; ours name the
    run. VOC and DensePose configs were never trained here."""
    for model in _metafile()['Models']:
        source = model['Metadata']['Results Source']
        if 'voc' in model['Config'] or 'densepose' in model['Config']:
            assert source.startswith('paper') and 'Table' in source
        else:
            assert source.startswith('this repository')


def test_readme_links_resolve():
    with open(osp.join(ZOO, 'README.md')) as f:
        text = f.read()
    links = re.findall(r'\]\(([^)#\s]+)\)', text)
    local = [link for link in links if '://' not in link]
    assert local, 'the README links its configs'
    for link in local:
        assert osp.exists(osp.join(ZOO, link)), f'README link {link} is dead'
    for config in glob.glob(osp.join(ZOO, '*.py')):
        assert osp.basename(config) in text, config
