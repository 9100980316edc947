# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert COCO-DensePose annotations to part masks and part points.

For every image with at least one DensePose person, writes under OUT:

* ``SegmentationPart/<image>.png``: the 15-class part segmentation
  (background + 14 parts; COCO persons without DensePose data are void),
  the evaluation target;
* ``SegmentationPartObject/<image>.png``: person instances;
* ``points/<image>.png`` + ``points/tags.json`` (merged across splits):
  one point per part of each person (and per background region unless
  ``--no-background-points``) at its interior centre, dilated by
  ``--radius``, as in the paper's appendix;
* ``ImageSets/<split>.txt``: the image stems.

Example:
    python tools/dataset_converters/densepose.py \
        data/coco/annotations/densepose_coco_2014_train.json \
        --out data/densepose --split train --nproc 8
"""

import json
import os
import os.path as osp
import sys

from mmseg_spml.datasets.converters import (
    DENSEPOSE_PART_CLASSES,
    group_annotations,
    image_part_maps,
)
from mmseg_spml.datasets.densepose import DENSEPOSE_PALETTE
from mmseg_spml.datasets.weak_synthesis import (
    image_seed,
    synthesize_weak_labels,
)
from mmseg_spml.label_encoding import UNLABELLED
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import label_palette, save_json, save_label_png
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> tuple:
    """``task`` is ``(image entry, annotations, out, radius, background
    points, seed)``; returns ``(stem, tags)``."""
    image, anns, out, radius, background, seed = task
    stem = osp.splitext(image['file_name'])[0]
    label, instance = image_part_maps(image, anns)
    palette = label_palette(DENSEPOSE_PALETTE)
    save_label_png(
        osp.join(out, 'SegmentationPart', stem + '.png'), label, palette
    )
    save_label_png(
        osp.join(out, 'SegmentationPartObject', stem + '.png'), instance
    )
    weak = synthesize_weak_labels(
        'points',
        label,
        instance,
        num_classes=len(DENSEPOSE_PART_CLASSES),
        radius=radius,
        seed=image_seed(seed, stem),
    )
    points = weak.label
    if not background:
        points[points == 0] = UNLABELLED
    save_label_png(osp.join(out, 'points', stem + '.png'), points, palette)
    tags = sorted(set(weak.tags) - ({0} if not background else set()))
    return stem, tags


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('ann_file', help='COCO-DensePose JSON file')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--split', default='train', help='split list name')
    parser.add_argument('--radius', type=int, default=6)
    parser.add_argument('--no-background-points', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if not osp.isfile(args.ann_file):
        sys.exit(f'error: {args.ann_file} does not exist')
    try:
        with open(args.ann_file) as f:
            coco = json.load(f)
        groups = group_annotations(coco)
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        sys.exit(
            f'error: {args.ann_file} is not a COCO annotation file '
            f'with "images" and "annotations": {e!r}'
        )
    tasks = [
        (
            image,
            groups[image['id']],
            args.out,
            args.radius,
            not args.no_background_points,
            args.seed,
        )
        for image in coco['images']
        if any('dp_masks' in a for a in groups[image['id']])
    ]
    if not tasks:
        sys.exit(
            f'error: no image in {args.ann_file} has DensePose '
            '(dp_masks) annotations'
        )
    try:
        results = map_with_progress(convert, tasks, args.nproc)
    except ValueError as e:
        sys.exit(f'error: {e}')
    # Several splits share the folder: merge with the tags already there.
    tags_path = osp.join(args.out, 'points', 'tags.json')
    tags = {}
    if osp.isfile(tags_path):
        with open(tags_path) as f:
            tags = json.load(f)
    tags.update(dict(results))
    save_json(tags_path, tags)
    os.makedirs(osp.join(args.out, 'ImageSets'), exist_ok=True)
    split = osp.join(args.out, 'ImageSets', args.split + '.txt')
    with open(split + '.tmp', 'w') as f:
        f.write(''.join(stem + '\n' for stem, _ in results))
    os.replace(split + '.tmp', split)
    print(f'{len(results)} DensePose images converted into {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
