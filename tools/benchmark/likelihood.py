# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Side by side: the package's pixel-to-segment likelihood against the
previous implementation (``likelihood_v1.py``, kept here as the baseline),
inside the whole SegSort loss, on identical inputs; prints markdown tables.

The setting is the VOC scribble one of ``segsort_loss.py`` (64-d 128x128
embeddings, 6x6 k-means, a memory of 2 batches, three relations). For each
batch size, after filling the memory bank, the loss is evaluated (memory
frozen, so both see the same segments) with each implementation in turn:

1. values and gradients: every relation's loss and the gradient of their
   sum w.r.t. the embeddings, compared (``--rtol``; exit 1 on a mismatch);
2. time of k-means + loss forward + backward, the two alternating over
   ``--repeats`` input draws, medians and their ratio;
3. peak memory: the peak RSS of ``segsort_loss.py --likelihood X`` in a
   fresh process per point (on CPU the RSS peak cannot be reset; on CUDA
   the allocator's peak);
4. with ``--profile``, a torch profile of the package's step: the share of
   ``aten::mm`` in the whole step (k-means included) and in the
   likelihood's own calls.

Example:
    python tools/benchmark/likelihood.py --batches 4 8 --repeats 3
    python tools/benchmark/likelihood.py --batches 4 --profile --json l.json
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import (  # noqa: E402
    benchmark_parser,
    median,
    result,
    sync,
    write_json,
)
from likelihood_v1 import use_likelihood  # noqa: E402
from segsort_loss import build_loss, make_inputs  # noqa: E402

IMPLS = ('v1', 'current')
HERE = osp.dirname(osp.abspath(__file__))


def loss_options(args: argparse.Namespace, batch: int) -> argparse.Namespace:
    """The options ``segsort_loss.py`` takes, for one batch size."""
    return argparse.Namespace(
        batch=batch,
        dim=args.dim,
        size=args.size,
        grid=args.grid,
        classes=args.classes,
        memory=args.memory,
        superpixel_size=args.superpixel_size,
        chunk=args.chunk,
        device=args.device,
        seed=args.seed,
    )


def step(loss: torch.nn.Module, inputs: tuple, impl: str) -> tuple:
    """k-means, then the loss forward and backward with ``impl``; the
    losses (dict of floats), the embeddings' gradient and the seconds."""
    emb = inputs[0]
    emb.grad = None
    with use_likelihood(impl):
        sync(str(emb.device))
        start = time.perf_counter()
        losses = loss(*inputs)  # k-means included
        sum(losses.values()).backward()
        sync(str(emb.device))
        seconds = time.perf_counter() - start
    return {k: v.item() for k, v in losses.items()}, emb.grad.clone(), seconds


def compare(args: argparse.Namespace, batch: int) -> Dict[str, Any]:
    """Values, gradients and times of both implementations at ``batch``."""
    opts = loss_options(args, batch)
    loss = build_loss(opts)  # memory bank filled
    loss.eval()  # the memory stays as it is: same segments for both
    inputs = make_inputs(opts, 0)
    runs = {impl: step(loss, inputs, impl) for impl in IMPLS}
    (ref, ref_grad, _), (new, new_grad, _) = runs['v1'], runs['current']
    value_err = max(
        abs(new[k] - ref[k]) / max(abs(ref[k]), 1e-12) for k in ref
    )
    grad_err = float(
        (new_grad - ref_grad).abs().max()
        / ref_grad.abs().max().clamp(min=1e-30)
    )
    times = {impl: [] for impl in IMPLS}
    for seed in range(args.repeats):
        inputs = make_inputs(opts, seed)
        for impl in IMPLS if seed % 2 == 0 else IMPLS[::-1]:
            times[impl].append(step(loss, inputs, impl)[2])
    med = {impl: median(t) for impl, t in times.items()}
    return dict(
        batch=batch,
        losses=dict(v1=ref, current=new),
        max_rel_value_error=value_err,
        max_rel_grad_error=grad_err,
        times=times,
        median_s=med,
        speedup=med['v1'] / med['current'],
    )


def peak_memory(args: argparse.Namespace, batch: int, impl: str) -> float:
    """Peak MiB of ``segsort_loss.py --likelihood impl`` (one repeat) in a
    fresh process."""
    fd, path = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        cmd = [sys.executable, osp.join(HERE, 'segsort_loss.py')]
        opts = vars(loss_options(args, batch))
        for key in ('batch', 'dim', 'size', 'grid', 'classes', 'memory'):
            cmd += [f'--{key}', str(opts[key])]
        cmd += ['--superpixel-size', str(args.superpixel_size)]
        if args.chunk:
            cmd += ['--chunk', str(args.chunk)]
        cmd += ['--device', args.device]
        cmd += ['--repeats', '1', '--likelihood', impl, '--json', path]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            return float(json.load(f)['peak_mib'])
    finally:
        os.remove(path)


def mm_share(args: argparse.Namespace, batch: int) -> Dict[str, float]:
    """Profile one step of the package's loss: ``aten::mm`` seconds, the
    step's total and the likelihood calls' total (CPU time)."""
    opts = loss_options(args, batch)
    loss = build_loss(opts)
    inputs = make_inputs(opts, 0)
    step(loss, inputs, 'current')  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step(loss, inputs, 'current')
    events = {e.key: e for e in prof.key_averages()}
    total = sum(e.self_cpu_time_total for e in events.values())
    mm = events['aten::mm'].self_cpu_time_total if 'aten::mm' in events else 0
    nll = events['_PixelSegmentNLL'].cpu_time_total
    return dict(
        mm_s=mm / 1e6,
        step_s=total / 1e6,
        likelihood_s=nll / 1e6,
        mm_share_of_step=mm / total,
        mm_share_of_likelihood=mm / nll,
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__, repeats=3)
    parser.add_argument('--batches', type=int, nargs='+', default=[4, 8])
    parser.add_argument('--dim', type=int, default=64)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--grid', type=int, default=6)
    parser.add_argument('--classes', type=int, default=21)
    parser.add_argument('--memory', type=int, default=2)
    parser.add_argument('--superpixel-size', type=int, default=16)
    parser.add_argument(
        '--chunk',
        type=int,
        default=None,
        help='pixels per chunk of the likelihood (default: automatic; the '
        'baseline then takes its own default, 4096)',
    )
    parser.add_argument(
        '--rtol',
        type=float,
        default=1e-4,
        help='largest relative difference of values and gradients',
    )
    parser.add_argument(
        '--no-memory-runs',
        action='store_true',
        help='skip the peak-memory processes',
    )
    parser.add_argument(
        '--profile', action='store_true', help='also profile aten::mm'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    rows = []
    for batch in args.batches:
        row = compare(args, batch)
        if not args.no_memory_runs:
            row['peak_mib'] = {
                impl: peak_memory(args, batch, impl) for impl in IMPLS
            }
        if args.profile:
            row['profile'] = mm_share(args, batch)
        rows.append(row)
    print(
        f'k-means + SegSort loss forward + backward, {args.dim}-d '
        f'{args.size}x{args.size} embeddings, {args.grid}x{args.grid} '
        f'k-means, memory of {args.memory} batches, 3 relations; '
        f'{args.repeats} repeats, {torch.get_num_threads()} threads\n'
    )
    print(
        '| batch | v1 s | current s | speed-up | peak MiB v1 / current '
        '| max rel. value diff | max rel. grad diff |'
    )
    print('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for r in rows:
        mem = r.get('peak_mib')
        mem_cell = f'{mem["v1"]:.0f} / {mem["current"]:.0f}' if mem else '-'
        print(
            f'| {r["batch"]} | {r["median_s"]["v1"]:.2f} | '
            f'{r["median_s"]["current"]:.2f} | {r["speedup"]:.2f}x | '
            f'{mem_cell} | {r["max_rel_value_error"]:.1e} | '
            f'{r["max_rel_grad_error"]:.1e} |'
        )
    for r in rows:
        if 'profile' in r:
            p = r['profile']
            print(
                f'\nbatch {r["batch"]}: aten::mm {p["mm_s"]:.2f} s = '
                f'{100 * p["mm_share_of_step"]:.0f} % of the step '
                f'({p["step_s"]:.2f} s CPU, k-means included), '
                f'{100 * p["mm_share_of_likelihood"]:.0f} % of the '
                f'likelihood calls ({p["likelihood_s"]:.2f} s)'
            )
    if args.json:
        write_json(args.json, result(args, rows=rows))
    bad = [
        r['batch']
        for r in rows
        if max(r['max_rel_value_error'], r['max_rel_grad_error']) > args.rtol
    ]
    if bad:
        print(f'values or gradients differ beyond {args.rtol} at {bad}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
