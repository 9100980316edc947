# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Read the results of finished training runs."""

import glob
import json
import os.path as osp
from typing import Dict


def last_val_metrics(work_dir: str) -> Dict[str, float]:
    """Metrics of the last validation of the newest run in ``work_dir``.

    Raises:
        RuntimeError: If no run in ``work_dir`` logged a validation mIoU.
    """
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    )
    for scalars in reversed(files):
        with open(scalars) as f:
            records = [json.loads(line) for line in f if line.strip()]
        val = [r for r in records if 'mIoU' in r]
        if val:
            return val[-1]
    raise RuntimeError(
        f'no validation mIoU found under {work_dir}/*/'
        'vis_data/scalars.json: did training finish?'
    )
