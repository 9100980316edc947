# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Write training samples with their weak labels, superpixels and tags drawn.

For each of the first ``--num`` samples of the config's training set (after
its pipeline: what the model sees), writes ``OUT/<image>.jpg``: the image,
then the weak labels over it (class colours of the dataset; unlabelled
pixels left as the image, void in grey), then the superpixel borders; the
image tags are written underneath.

Example:
    python tools/analysis_tools/browse_weak_dataset.py \
        configs/_base_/datasets/pascal_voc12_aug_scribbles.py \
        --out work_dirs/browse --num 20
"""

import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.config import DictAction
from mmseg.registry import DATASETS
from skimage.segmentation import find_boundaries

import mmseg_spml  # noqa: F401  (registers the datasets and transforms)
from mmseg_spml.label_encoding import IGNORE_INDEX, UNLABELLED
from mmseg_spml.utils.cli import doc_parser, load_tool_config


def render(sample: dict, classes, palette) -> np.ndarray:
    """Side-by-side picture of one packed sample, BGR uint8."""
    data = sample['data_samples']
    img = sample['inputs'].permute(1, 2, 0).numpy().astype(np.uint8).copy()
    weak = data.gt_sem_seg.data[0].numpy()
    overlay = img.copy()
    colours = np.array(palette, np.uint8)[:, ::-1]  # RGB palette -> BGR
    labelled = weak < len(classes)
    overlay[labelled] = (
        0.35 * img[labelled] + 0.65 * colours[weak[labelled]]
    ).astype(np.uint8)
    overlay[weak == IGNORE_INDEX] = 128
    panels = [img, overlay]
    if 'gt_superpixel' in data:
        borders = img.copy()
        borders[find_boundaries(data.gt_superpixel.data[0].numpy())] = (
            0,
            255,
            255,
        )
        panels.append(borders)
    picture = np.concatenate(panels, axis=1)
    tags = data.metainfo.get('img_tags', [])
    text = 'tags: ' + (', '.join(classes[t] for t in tags) or '(none)')
    unlabelled = (weak == UNLABELLED).mean()
    text += f' | unlabelled {unlabelled:.0%}'
    band = np.full((28, picture.shape[1], 3), 255, np.uint8)
    cv2.putText(
        band,
        text,
        (4, 19),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    return np.concatenate([picture, band], axis=0)


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('config', help='config with a weak train_dataloader')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num', type=int, default=10)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = load_tool_config(args)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    classes = dataset.metainfo['classes']
    palette = dataset.metainfo.get('palette') or [
        [(37 * i) % 256, (97 * i) % 256, (173 * i) % 256]
        for i in range(len(classes))
    ]
    os.makedirs(args.out, exist_ok=True)
    for i in range(min(args.num, len(dataset))):
        sample = dataset[i]
        name = osp.splitext(osp.basename(sample['data_samples'].img_path))[0]
        ok, buf = cv2.imencode('.jpg', render(sample, classes, palette))
        path = osp.join(args.out, name + '.jpg')
        with open(path + '.tmp', 'wb') as f:
            f.write(buf.tobytes())
        os.replace(path + '.tmp', path)
    print(f'{min(args.num, len(dataset))} samples written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
