# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Turn a training checkpoint into a smaller file fit for publishing.

Like MMSegmentation's ``tools/misc/publish_model.py``, with these changes:
the checkpoint is read with ``torch.load(weights_only=True)`` (importing
``mmseg_spml`` allow-lists exactly the extra types MMEngine checkpoints
hold), only ``meta`` and ``state_dict`` are kept (``optimizer``,
``param_schedulers`` and the ``message_hub``, whose logged-scalar history
grows with training, serve resuming only), the file is written atomically,
and the hash in its name is the sha256 of the *written* file (MMSeg's hashes
the input). ``OUT_FILE`` ``work_dirs/spml.pth`` becomes
``work_dirs/spml-<first 8 hex digits of sha256>.pth``; that final path is the
only line printed on stdout, a summary goes to stderr.

Examples:
    python tools/misc/publish_model.py work_dirs/spml/iter_1000.pth \
        work_dirs/publish/spml_efflite0_demo-scribbles.pth
    CKPT=$(python tools/misc/publish_model.py IN.pth OUT.pth)
    python tools/test.py CONFIG "$CKPT"
"""

import argparse
import sys
from typing import List, Optional

from mmseg_spml.apis import publish_checkpoint
from mmseg_spml.utils.cli import doc_parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('in_file', help='input checkpoint (.pth)')
    parser.add_argument(
        'out_file', help='output name; -<sha256[:8]> is added before .pth'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        final = publish_checkpoint(args.in_file, args.out_file)
    except (FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(final)
    return 0


if __name__ == '__main__':
    sys.exit(main())
