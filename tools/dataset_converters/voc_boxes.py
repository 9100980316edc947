# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert Pascal VOC detection XML to box label PNGs.

For each image of the split: background (0) outside every box, 254
(unlabelled) inside; ``OUT/boxes.json`` (``{image: [[cls, x1, y1, x2, y2],
...]}``, 0-based inclusive) and ``OUT/tags.json`` (box classes, plus
background when any pixel is outside all boxes). An XML without objects is
an error unless ``--allow-empty``, which makes its map all background.
Detection XML of another data set in the VOC format is read with its own
class list, ``--classes`` (one name per line, background first, or a
config).

Example:
    python tools/dataset_converters/voc_boxes.py data/VOCdevkit/VOC2012 \
        --split ImageSets/Segmentation/trainaug.txt \
        --out data/VOCdevkit/VOC2012/boxes --nproc 8
"""

import os.path as osp
import sys

from mmseg_spml.datasets.converters import (
    load_class_list,
    parse_voc_boxes,
    rasterize_boxes,
)
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import (
    read_split,
    save_json,
    save_label_png,
)
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> tuple:
    """``task`` is ``(name, xml path, out dir, allow empty, class list)``;
    returns ``(name, boxes, tags)``."""
    name, xml_path, out, allow_empty, classes = task
    if not osp.isfile(xml_path):
        raise ValueError(f'annotation {xml_path} does not exist')
    shape, boxes = parse_voc_boxes(xml_path, classes)
    if not boxes and not allow_empty:
        raise ValueError(
            f'{xml_path} has no <object>; pass --allow-empty '
            'to treat such images as all background'
        )
    label, tags = rasterize_boxes(shape, boxes)
    save_label_png(osp.join(out, name + '.png'), label, classes.palette)
    return name, [list(b) for b in boxes], tags


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('data_root', help='VOC folder (Annotations/...)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--split',
        default='ImageSets/Segmentation/train.txt',
        help='split file relative to data_root',
    )
    parser.add_argument('--ann-dir', default='Annotations')
    parser.add_argument('--allow-empty', action='store_true')
    parser.add_argument(
        '--classes',
        help='class list: a text file (one name per line, background '
        'first) or a config with metainfo.classes (default: Pascal VOC)',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    try:
        names = read_split(osp.join(args.data_root, args.split))
        classes = load_class_list(args.classes)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    tasks = [
        (
            name,
            osp.join(args.data_root, args.ann_dir, name + '.xml'),
            args.out,
            args.allow_empty,
            classes,
        )
        for name in names
    ]
    try:
        results = map_with_progress(convert, tasks, args.nproc)
    except ValueError as e:
        sys.exit(f'error: {e}')
    save_json(osp.join(args.out, 'boxes.json'), {r[0]: r[1] for r in results})
    save_json(osp.join(args.out, 'tags.json'), {r[0]: r[2] for r in results})
    print(f'{len(results)} box maps written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
