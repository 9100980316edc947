# Copyright (c) mmseg-spml contributors. All rights reserved.
"""PMM's pseudo-mask pipeline on the demo data (``tools/run_pmm_demo.py``):
the CAM stage, pseudo masks by every labelling method scored against the
training images' full masks, and segmentation networks trained on one
method's masks with CE and with PUF."""

import os.path as osp
from typing import List, Sequence, Tuple

from mmseg_spml.datasets.demo_scenes import demo_data_root
from mmseg_spml.pseudo_masks.evaluation import (
    class_names_of,
    score_label_folder,
)
from mmseg_spml.utils.runs import ToolRunner, last_checkpoint

#: The labelling methods scored (``band+crf``: IRN's band with its CRF).
METHODS = ('band', 'band+crf', 'threshold', 'cvs', 'ppmg', 'cvs+ppmg')
#: The pseudo masks the segmentation networks are trained on (PMM's).
TRAIN_METHOD = 'cvs+ppmg'


def label_method_args(method: str, img_dir: str) -> List[str]:
    """The ``make_pseudo_masks.py`` arguments of one of :data:`METHODS`
    (``img_dir``: the images, ``<name>.jpg``, the CRF runs on).

    Raises:
        ValueError: If ``method`` is not one of :data:`METHODS`.
    """
    if method not in METHODS:
        raise ValueError(f'unknown method {method!r}: one of {METHODS}')
    if method == 'band+crf':
        return ['--method', 'band', '--crf', img_dir, '--img-suffix', '.jpg']
    return ['--method', method]


class PMMDemo:
    """The runs of the PMM demo, each skipped when a previous run finished
    it.

    Args:
        tools_dir (str): The checkout's ``tools/``.
        work_dir (str): Where runs, CAMs and pseudo masks are written.
        cam_config (str): The CAM classifier config (demo data).
        seg_configs (Sequence[tuple[str, str]]): ``(loss name, config)`` of
            the segmentation networks trained on the
            :data:`TRAIN_METHOD` masks.
    """

    def __init__(
        self,
        tools_dir: str,
        work_dir: str,
        cam_config: str,
        seg_configs: Sequence[Tuple[str, str]],
    ) -> None:
        self.tools = ToolRunner(tools_dir, '[pmm demo]')
        self.work = work_dir
        self.cam_config = cam_config
        self.seg_configs = seg_configs
        self.data_root = demo_data_root(cam_config)

    def cams(self) -> Tuple[dict, str]:
        """Train the CAM classifier and write the training images' CAMs
        (at the config's views); its validation metrics and the CAM
        folder."""
        cam_dir = osp.join(self.work, 'cam')
        cam = self.tools.train(self.cam_config, cam_dir)
        cams = osp.join(self.work, 'cams')
        self.tools.run(
            self.tools.command(
                'make_cams.py',
                self.cam_config,
                last_checkpoint(cam_dir),
                '--out',
                cams,
            )
        )
        return cam, cams

    def pseudo_masks(self, cams: str) -> List[dict]:
        """The pseudo masks of every method and their scores (unlabelled
        pixels count as misses), one row per method."""
        root = self.data_root
        rows = []
        for method in METHODS:
            out = self.mask_dir(method)
            args = label_method_args(method, osp.join(root, 'JPEGImages'))
            self.tools.run(
                self.tools.command(
                    'make_pseudo_masks.py', cams, '--out', out, *args
                )
            )
            scores = score_label_folder(
                out,
                osp.join(root, 'SegmentationClass'),
                class_names_of(None, 7),
                split=osp.join(root, 'ImageSets', 'Segmentation', 'train.txt'),
                unlabelled='wrong',
                out=osp.join(out, 'scores.json'),
            )
            rows.append(dict(method=method, **scores))
        return rows

    def mask_dir(self, method: str) -> str:
        """The folder of ``method``'s pseudo masks."""
        return osp.join(self.work, 'pseudo_' + method.replace('+', '_'))

    def segmenters(self) -> List[dict]:
        """Train each segmentation config on the :data:`TRAIN_METHOD`
        masks; one row of validation metrics per loss."""
        masks = self.mask_dir(TRAIN_METHOD)
        rows = []
        for loss, config in self.seg_configs:
            stem = osp.splitext(osp.basename(config))[0]
            metrics = self.tools.train(
                config,
                osp.join(self.work, stem),
                [f'train_dataloader.dataset.data_prefix.seg_map_path={masks}'],
            )
            rows.append(dict(loss=loss, **metrics))
        return rows

    def run(self) -> str:
        """Every step; the results tables (:func:`format_pmm_tables`)."""
        cam, cams = self.cams()
        return format_pmm_tables(
            cam, self.pseudo_masks(cams), self.segmenters()
        )


def format_pmm_tables(
    cam: dict, mask_rows: List[dict], seg_rows: List[dict]
) -> str:
    """The PMM demo's results as markdown.

    Args:
        cam (dict): The CAM classifier's validation metrics (``mIoU``).
        mask_rows (list[dict]): ``method``, ``mIoU``, ``mPrecision``,
            ``mRecall`` and ``coverage`` of each labelling method.
        seg_rows (list[dict]): ``loss``, ``mIoU``, ``mAcc`` and ``aAcc`` of
            each segmentation network.

    Returns:
        str: The CAM line and the two tables.
    """
    lines = [
        f'CAM seeds on the val split (image tags given, background '
        f'(1 - max CAM)^6): mIoU {cam["mIoU"]:.2f}',
        '',
        'Pseudo masks of the 200 training images vs their full masks '
        '(unlabelled pixels count as misses):',
        '',
        '| method | mIoU | mPrecision | mRecall | coverage |',
        '| --- | ---: | ---: | ---: | ---: |',
    ]
    for row in mask_rows:
        lines.append(
            f'| {row["method"]} | {row["mIoU"]:.2f} | '
            f'{row["mPrecision"]:.2f} | {row["mRecall"]:.2f} | '
            f'{row["coverage"]:.2f} |'
        )
    lines += [
        '',
        f'DeepLabV3-EffLite0 trained 1,000 iterations on the {TRAIN_METHOD} '
        'pseudo masks, val split:',
        '',
        '| loss | mIoU | mAcc | aAcc |',
        '| --- | ---: | ---: | ---: |',
    ]
    for row in seg_rows:
        lines.append(
            f'| {row["loss"]} | {row["mIoU"]:.2f} | {row["mAcc"]:.2f} | '
            f'{row["aAcc"]:.2f} |'
        )
    return '\n'.join(lines)
