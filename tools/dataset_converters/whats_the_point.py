# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert What's-the-point click JSON to weak label PNGs.

Each click becomes a disk of ``--radius`` pixels (class ids), every other
pixel is 254 (unlabelled). Writes ``OUT/<image>.png`` for every image of
the split and ``OUT/tags.json``, atomically. Images absent from the JSON
get an all-unlabelled map (and empty tags); they are counted in the
summary. ``--classes`` reads the ids of another data set (one name per
line, background first, or a config).

These clicks are on objects only: no map has a background label, so a
segmenter trained on them never learns background. ``WeakSegDataset``
refuses such a training set (``require_background``). For SPML's point
setting use ScribbleSup's scribbles reduced to points, background ones
included (``scribblesup.py --length-ratio 0``), or add background clicks
to the JSON (``"cls": 0``).

Example:
    python tools/dataset_converters/whats_the_point.py \
        data/whats_the_point/pascal2012_trainval_main.json \
        data/VOCdevkit/VOC2012 --split ImageSets/Segmentation/train.txt \
        --out data/VOCdevkit/VOC2012/points_wtp --nproc 8
"""

import json
import os.path as osp
import sys

from PIL import Image

from mmseg_spml.datasets.converters import (
    load_class_list,
    parse_clicks,
    rasterize_clicks,
)
from mmseg_spml.datasets.weak_seg_dataset import ADD_BACKGROUND
from mmseg_spml.datasets.weak_synthesis import image_tags
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import (
    read_split,
    save_json,
    save_label_png,
)
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> tuple:
    """``task`` is ``(name, clicks or None, image path, out dir, radius,
    json path, class list)``;
    returns ``(name, tags, dropped clicks, missing)``."""
    name, entry, img_path, out, radius, source, classes = task
    if not osp.isfile(img_path):
        raise ValueError(f'image {img_path} of {name} does not exist')
    with Image.open(img_path) as img:
        shape = (img.height, img.width)
    clicks = parse_clicks(entry or [], f'{source}:{name}', len(classes))
    label, dropped = rasterize_clicks(shape, clicks, radius)
    save_label_png(osp.join(out, name + '.png'), label, classes.palette)
    return name, image_tags(label, len(classes)), dropped, entry is None


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('json_file', help="What's-the-point JSON file")
    parser.add_argument('data_root', help='VOC folder (JPEGImages/...)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--split',
        default='ImageSets/Segmentation/train.txt',
        help='split file relative to data_root',
    )
    parser.add_argument('--img-dir', default='JPEGImages')
    parser.add_argument(
        '--radius',
        type=int,
        default=6,
        help="disk radius in pixels (default 6, the paper's points)",
    )
    parser.add_argument(
        '--classes',
        help='class list: a text file (one name per line, background '
        'first) or a config with metainfo.classes (default: Pascal VOC)',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if not osp.isfile(args.json_file):
        sys.exit(f'error: {args.json_file} does not exist')
    try:
        names = read_split(osp.join(args.data_root, args.split))
        classes = load_class_list(args.classes)
        with open(args.json_file) as f:
            clicks = json.load(f)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    except json.JSONDecodeError as e:
        sys.exit(f'error: {args.json_file} is not valid JSON: {e}')
    if not isinstance(clicks, dict):
        sys.exit(
            f'error: {args.json_file} must map image ids to click '
            f'lists, got a {type(clicks).__name__}'
        )
    tasks = [
        (
            name,
            clicks.get(name),
            osp.join(args.data_root, args.img_dir, name + '.jpg'),
            args.out,
            args.radius,
            args.json_file,
            classes,
        )
        for name in names
    ]
    try:
        results = map_with_progress(convert, tasks, args.nproc)
    except ValueError as e:
        sys.exit(f'error: {e}')
    save_json(
        osp.join(args.out, 'tags.json'),
        {name: tags for name, tags, _, _ in results},
    )
    dropped = sum(r[2] for r in results)
    missing = sum(r[3] for r in results)
    print(
        f'{len(results)} point maps written to {args.out}; '
        f'{missing} images without clicks in the JSON, {dropped} clicks '
        'outside their image dropped'
    )
    if not any(0 in tags for _, tags, _, _ in results):
        print(
            'warning: no map has a background label (class 0); '
            f'WeakSegDataset refuses to train on them: {ADD_BACKGROUND}',
            file=sys.stderr,
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
