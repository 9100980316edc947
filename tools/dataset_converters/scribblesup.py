# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert ScribbleSup XML scribbles to weak label PNGs (no MATLAB).

Writes ``OUT/<image>.png`` (class ids on the scribbles, 254 elsewhere) and
``OUT/tags.json``, atomically. ``--length-ratio`` keeps the central part
of each scribble; 0 reduces every scribble, background ones included, to
one point: SPML's point setting (the reference's ``dilate_6_0.0`` maps,
``--length-ratio 0 --thickness 6``). ``--classes`` reads the tag names of
another data set (one name per line, background first, or a config).

Example:
    python tools/dataset_converters/scribblesup.py \
        data/scribble_annotation/pascal_2012 \
        --out data/VOCdevkit/VOC2012/scribbles --nproc 8
    python tools/dataset_converters/scribblesup.py \
        data/scribble_annotation/pascal_2012 --length-ratio 0 \
        --thickness 6 --out data/VOCdevkit/VOC2012/points --nproc 8
"""

import glob
import os.path as osp
import sys

from mmseg_spml.datasets.converters import (
    load_class_list,
    parse_scribblesup_xml,
    rasterize_scribbles,
    shorten_scribble,
)
from mmseg_spml.datasets.weak_synthesis import image_tags
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_json, save_label_png
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> tuple:
    """Convert one XML file; ``task`` is ``(xml path, out dir, thickness,
    length ratio, class list)``. Returns ``(image name, tags)``."""
    xml_path, out, thickness, ratio, classes = task
    name = osp.splitext(osp.basename(xml_path))[0]
    shape, scribbles = parse_scribblesup_xml(xml_path, classes)
    scribbles = [(c, shorten_scribble(pts, ratio)) for c, pts in scribbles]
    label = rasterize_scribbles(shape, scribbles, thickness)
    save_label_png(osp.join(out, name + '.png'), label, classes.palette)
    return name, image_tags(label, len(classes))


def main(argv=None) -> int:
    parser = doc_parser(__doc__)
    parser.add_argument('xml_dir', help='folder of ScribbleSup XML files')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--thickness',
        type=int,
        default=3,
        help='line width in pixels (default 3, as rloss/SPML)',
    )
    parser.add_argument(
        '--length-ratio',
        type=float,
        default=1.0,
        help='share of each scribble kept, around its middle (default 1; '
        "0: one point per scribble, the paper's points)",
    )
    parser.add_argument(
        '--classes',
        help='class list: a text file (one name per line, background '
        'first) or a config with metainfo.classes (default: Pascal VOC)',
    )
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.length_ratio <= 1:
        parser.error(
            f'--length-ratio must be in [0, 1], got {args.length_ratio}'
        )
    files = sorted(glob.glob(osp.join(args.xml_dir, '*.xml')))
    if not files:
        sys.exit(f'error: no .xml files in {args.xml_dir}')
    try:
        classes = load_class_list(args.classes)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    tasks = [
        (f, args.out, args.thickness, args.length_ratio, classes)
        for f in files
    ]
    try:
        results = map_with_progress(convert, tasks, args.nproc)
    except ValueError as e:
        sys.exit(f'error: {e}')
    save_json(osp.join(args.out, 'tags.json'), dict(results))
    empty = sum(not tags for _, tags in results)
    print(
        f'{len(results)} scribble maps written to {args.out}'
        + (f' ({empty} without any scribble)' if empty else '')
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
