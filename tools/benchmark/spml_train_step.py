# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Benchmark the full SPML train step (backbone + embedding head +
SegSort loss, forward, backward and optimizer step) against the plain
DeepLabV3 cross-entropy train step of the same backbone and input size;
prints a markdown table with the ratio.

Both models are built from configs (by default the demo SPML config and the
baseline it inherits from) and fed the same synthetic batch: random images,
scribble-like weak labels, image tags and square superpixels for SPML, full
masks for the baseline. Data loading is not timed (superpixels are computed
by the data pipeline, in the dataloader workers). The two models run
alternately, after warm-up steps, and the medians are compared.
``--json`` writes the results as a dict.

Example:
    python tools/benchmark/spml_train_step.py --repeats 10
    python tools/benchmark/spml_train_step.py --device cuda --batch 16
    python tools/benchmark/spml_train_step.py --repeats 5 --json out.json
"""

import argparse
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_spml  # noqa: F401
from mmseg_spml.label_encoding import UNLABELLED

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import (  # noqa: E402
    benchmark_parser,
    median,
    result,
    sync,
    write_json,
)

CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'configs')
SPML_CONFIG = osp.join(
    CONFIGS,
    'spml',
    'spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
)
BASELINE_CONFIG = osp.join(
    CONFIGS,
    'baselines',
    'deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py',
)


def make_batch(
    batch: int, size: int, num_classes: int, weak: bool, seed: int
) -> Dict[str, list]:
    """A synthetic batch as the dataloader gives it.

    Full masks are blocks of random classes; weak labels keep 6 one-pixel
    wide horizontal strokes of them (the rest unlabelled) and carry image
    tags and 16x16-pixel superpixels (64 per 128x128 image; the demo
    pipeline's felzenszwalb gives 62 on average on the demo images).
    """
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    yy, xx = torch.meshgrid(
        torch.arange(size), torch.arange(size), indexing='ij'
    )
    for _ in range(batch):
        inputs.append(torch.randint(0, 256, (3, size, size), generator=g))
        blocks = torch.randint(0, num_classes, (4, 4), generator=g)
        full = blocks[yy * 4 // size, xx * 4 // size]
        meta = dict(
            img_shape=(size, size), pad_shape=(size, size),
            ori_shape=(size, size),
        )  # fmt: skip
        if not weak:
            samples.append(
                SegDataSample(
                    gt_sem_seg=PixelData(data=full[None]), metainfo=meta
                )
            )
            continue
        label = torch.full_like(full, UNLABELLED)
        rows = torch.randint(0, size, (6,), generator=g)
        label[rows] = full[rows]
        meta['img_tags'] = sorted(set(full.unique().tolist()))
        sample = SegDataSample(
            gt_sem_seg=PixelData(data=label[None]), metainfo=meta
        )
        sp = (yy // 16) * (size // 16 + 1) + xx // 16
        sample.set_data(dict(gt_superpixel=PixelData(data=sp[None])))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def build(config: str, size: int, device: str) -> torch.nn.Module:
    """The config's model, with SyncBN as BN (one process)."""
    cfg = Config.fromfile(config)
    cfg.model.data_preprocessor.size = (size, size)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    return model.to(device).train()


def step_fn(model: torch.nn.Module, data: dict, device: str) -> Callable:
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))

    def step() -> float:
        sync(device)
        start = time.perf_counter()
        log = model.train_step(data, optim)
        sync(device)
        if not all(torch.isfinite(v) for v in log.values()):
            raise RuntimeError(f'non-finite loss: {log}')
        return time.perf_counter() - start

    return step


def measure(args: argparse.Namespace) -> Dict[str, Any]:
    """Time the train steps of both models, alternately.

    Args:
        args (argparse.Namespace): Parsed options of this script.

    Returns:
        dict: The options, ``steps``: for ``DeepLabV3 CE`` and ``SPML``
        the median seconds per step and images/s (and the list of times),
        ``ratio`` (SPML / CE median time), ``peak_mib`` of the process
        (both models; on CUDA the allocator's peak) and the
        :func:`environment`.
    """
    torch.manual_seed(args.seed)
    init_default_scope('mmseg')
    spml = build(args.spml_config, args.size, args.device)
    base = build(args.baseline_config, args.size, args.device)
    c = spml.decode_head.num_classes
    steps = {
        'DeepLabV3 CE': step_fn(
            base, make_batch(args.batch, args.size, c, False, 0), args.device
        ),
        'SPML': step_fn(
            spml, make_batch(args.batch, args.size, c, True, 0), args.device
        ),
    }
    times = {name: [] for name in steps}
    for i in range(args.warmup + args.repeats):
        for name, step in steps.items():  # alternate: same noise for both
            t = step()
            if i >= args.warmup:
                times[name].append(t)
    med = {k: median(v) for k, v in times.items()}
    return result(
        args,
        steps={
            k: dict(median_s=t, images_per_s=args.batch / t, times=times[k])
            for k, t in med.items()
        },
        ratio=med['SPML'] / med['DeepLabV3 CE'],
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__, repeats=10)
    parser.add_argument('--spml-config', default=SPML_CONFIG)
    parser.add_argument('--baseline-config', default=BASELINE_CONFIG)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--warmup', type=int, default=3)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    record = measure(args)
    med = {k: v['median_s'] for k, v in record['steps'].items()}
    print(
        f'device: {args.device}, threads: {torch.get_num_threads()}, '
        f'batch {args.batch}, input {args.size}x{args.size}, '
        f'{args.repeats} steps each after {args.warmup} warm-up steps'
    )
    print('| train step | median s | images/s |')
    print('| --- | ---: | ---: |')
    for name, t in med.items():
        print(f'| {name} | {t:.3f} | {args.batch / t:.1f} |')
    print(
        f'\nSPML / CE time ratio: {med["SPML"] / med["DeepLabV3 CE"]:.2f}; '
        f'peak memory of the process: {record["peak_mib"]:.0f} MiB'
    )
    if args.json:
        write_json(args.json, record)
    return 0


if __name__ == '__main__':
    sys.exit(main())
