# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Write the embedded demo data set (no download) in Pascal VOC layout.

Example:
    python tools/misc/make_demo_data.py --out data/demo_scenes --num-train 500
"""

import argparse
import sys
from dataclasses import fields

from mmseg_spml.datasets import (
    DemoSceneConfig,
    default_demo_root,
    ensure_demo_scenes,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--out',
        help='destination folder (default: the cache folder the demo configs '
        'read, $MMSEG_SPML_DATA or ~/.cache/mmseg-spml/data)',
    )
    defaults = DemoSceneConfig()
    for field in fields(DemoSceneConfig):
        parser.add_argument(
            '--' + field.name.replace('_', '-'),
            type=int,
            default=getattr(defaults, field.name),
            help=f'default: {getattr(defaults, field.name)}',
        )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        cfg = DemoSceneConfig(
            **{f.name: getattr(args, f.name) for f in fields(DemoSceneConfig)}
        )
    except ValueError as e:
        sys.exit(f'error: {e}')
    root = args.out or default_demo_root(cfg)
    try:
        ensure_demo_scenes(root, cfg, progress=True)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(
        f'demo data ({cfg.num_train} train + {cfg.num_val} val images, '
        f'{cfg.size}x{cfg.size}) in {root}'
    )


if __name__ == '__main__':
    sys.exit(main())
