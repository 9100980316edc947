# Copyright (c) mmseg-spml contributors. All rights reserved.
"""tools/analysis_tools/check_weak_dataset.py reports every problem of a
weak training set at once, by file, and exits with 1; a clean set
passes."""

import json

import numpy as np
import pytest
from PIL import Image

from mmseg_spml.label_encoding import UNLABELLED
from tests.helpers.tools import load_tool

CONFIG = """
default_scope = 'mmseg'
train_dataloader = dict(dataset=dict(
    type='WeakSegDataset',
    data_root={root!r},
    ann_file='train.txt',
    data_prefix=dict(img_path='img', seg_map_path='img', weak_path='weak',
                     superpixel_path='sp'),
    tags_file='tags.json',
    metainfo=dict(classes=('background', 'cat', 'dog', 'bird')),
    pipeline=[dict(type='LoadImageFromFile'),
              dict(type='LoadWeakAnnotations', {encoding})]))
"""


def _weak(value=UNLABELLED):
    weak = np.full((16, 20), value, np.uint8)
    weak[2:4, 2:10] = 1
    weak[10:12, 2:18] = 0
    return weak


def _write(root, weak, tags, sp=None, encoding=''):
    """A 3-image data set; ``weak``/``tags``/``sp`` override per image."""
    for sub in ('img', 'weak', 'sp'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    names = ['a', 'b', 'c']
    (root / 'train.txt').write_text('\n'.join(names) + '\n')
    for name in names:
        Image.new('RGB', (20, 16)).save(root / 'img' / f'{name}.jpg')
        Image.fromarray(weak.get(name, _weak())).save(
            root / 'weak' / f'{name}.png'
        )
        regions = (sp or {}).get(name, np.zeros((16, 20), np.uint8))
        Image.fromarray(regions).save(root / 'sp' / f'{name}.png')
    all_tags = {n: [0, 1] for n in names}
    all_tags.update(tags)
    (root / 'tags.json').write_text(json.dumps(all_tags))
    config = root / 'cfg.py'
    config.write_text(CONFIG.format(root=str(root), encoding=encoding))
    return str(config)


@pytest.fixture
def tool():
    return load_tool('analysis_tools/check_weak_dataset.py')


def test_every_problem_is_reported_by_file(tool, tmp_path, capsys):
    bad_value = _weak()
    bad_value[0, 0] = 9
    config = _write(
        tmp_path,
        weak={'a': _weak()[:10], 'b': bad_value, 'c': _weak(255)},
        tags={'a': [0, 1, 2]},
        sp={'c': np.zeros((8, 8), np.uint8)},
    )
    out = tmp_path / 'report.json'
    assert tool.main([config, '--out', str(out)]) == 1
    text = capsys.readouterr().out
    assert 'weak/a.png: weak map has shape (10, 20) but image' in text
    assert 'weak/b.png has labels [9]' in text
    assert 'weak/c.png: ' in text and 'unlabelled_value=255' in text
    assert 'sp/c.png: superpixel map has shape (8, 8)' in text
    # bird (3) is neither labelled nor tagged anywhere; dog (2) is tagged.
    assert 'classes 3 (bird) are neither labelled nor tagged' in text
    report = json.loads(out.read_text())
    assert len(report['problems']) == 5
    assert report['coverage']['tagged'] == [3, 3, 1, 0]


def test_a_clean_set_passes_and_its_encoding_is_the_pipelines(
    tool, tmp_path, capsys
):
    # rloss-style files (255 = not annotated), declared in the pipeline.
    config = _write(
        tmp_path,
        weak={n: _weak(255) for n in 'abc'},
        tags={n: [0, 1, 2, 3] for n in 'abc'},
        encoding='unlabelled_value=255, void_value=None',
    )
    assert tool.main([config]) == 0
    text = capsys.readouterr().out
    assert '0 problems' in text
    assert 'unlabelled pixels per weak map: mean' in text


def test_no_background_anywhere_is_a_problem(tool, tmp_path, capsys):
    objects_only = _weak()
    objects_only[objects_only == 0] = UNLABELLED
    config = _write(
        tmp_path,
        weak={n: objects_only for n in 'abc'},
        tags={n: [0, 1, 2, 3] for n in 'abc'},
    )
    assert tool.main([config]) == 1
    assert 'no weak map labels the background' in capsys.readouterr().out


def test_a_set_that_cannot_be_built_is_reported(tool, tmp_path, capsys):
    config = _write(tmp_path, weak={}, tags={})
    (tmp_path / 'weak' / 'b.png').unlink()
    assert tool.main([config]) == 1
    assert 'weak_map file' in capsys.readouterr().out
