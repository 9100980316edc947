# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Convert ScribbleSup XML scribbles to weak label PNGs (no MATLAB).

Writes ``OUT/<image>.png`` (class ids on the scribbles, 254 elsewhere) and
``OUT/tags.json``, atomically.

Example:
    python tools/dataset_converters/scribblesup.py \
        data/scribble_annotation/pascal_2012 \
        --out data/VOCdevkit/VOC2012/scribbles --nproc 8
"""

import glob
import os.path as osp
import sys

from mmseg_spml.datasets.converters import (
    VOC_CLASSES,
    VOC_LABEL_PALETTE,
    parse_scribblesup_xml,
    rasterize_scribbles,
)
from mmseg_spml.datasets.weak_synthesis import image_tags
from mmseg_spml.utils.cli import doc_parser
from mmseg_spml.utils.io import save_json, save_label_png
from mmseg_spml.utils.parallel import map_with_progress


def convert(task: tuple) -> tuple:
    """Convert one XML file; ``task`` is ``(xml path, out dir, thickness)``.
    Returns ``(image name, tags)``."""
    xml_path, out, thickness = task
    name = osp.splitext(osp.basename(xml_path))[0]
    shape, scribbles = parse_scribblesup_xml(xml_path)
    label = rasterize_scribbles(shape, scribbles, thickness)
    save_label_png(
        osp.join(out, name + '.png'),
        label,
        VOC_LABEL_PALETTE,
    )
    return name, image_tags(label, len(VOC_CLASSES))


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
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    files = sorted(glob.glob(osp.join(args.xml_dir, '*.xml')))
    if not files:
        sys.exit(f'error: no .xml files in {args.xml_dir}')
    tasks = [(f, args.out, args.thickness) for f in files]
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
