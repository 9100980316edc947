# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""Run the mmseg-spml benchmark suite; write a markdown table and plots.

Four parts, each point in a fresh subprocess (so that its peak memory, the
peak RSS of that process on CPU or the CUDA allocator's peak, is its own):

1. SegSort loss (``segsort_loss.py``): clustering time and loss forward +
   backward time and peak memory against the batch size, the embedding
   resolution and the number of segments (set by the superpixel size);
2. SPML train step against the plain DeepLabV3 cross-entropy train step of
   the same backbone (``spml_train_step.py``), and their time ratio;
3. kNN search throughput against the memory size (``knn_search.py``);
4. training throughput (images/s) of a short run of the demo SPML config
   with ``tools/train.py`` (real data pipeline, dataloader included), from
   the per-iteration ``time`` of its log after warm-up iterations; on CPU
   also with 2 gloo processes (``tools/dist_train.sh``, same global batch),
   with the config's SyncBN (built as SPMLSyncBN) and with plain BN; and
   one process with the superpixels computed by the dataloader workers at
   every iteration (``ComputeSuperpixels``) instead of once per image and
   loaded (``LoadSuperpixels``), the config's way.

Times are medians over repeated runs. ``OUT/benchmark.md`` holds the
tables (with device, torch version and thread count), ``OUT/*.png`` the
plots, ``OUT/results.json`` all numbers and ``OUT/logs/`` each point's
output. The default suite takes a few minutes on 2 idle CPU cores (under
10 with other jobs running; the table notes a busy machine); ``--quick``
runs tiny sizes in about a minute (a smoke test, not numbers to quote).

Example:
    python tools/benchmark/run_suite.py --out work_dirs/benchmark
    python tools/benchmark/run_suite.py --out /tmp/bench --device cuda
    python tools/benchmark/run_suite.py --out /tmp/bench --quick
"""

import argparse
import copy
import datetime
import glob
import json
import os
import os.path as osp
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
from _common import median, write_json, write_text  # noqa: E402
from mmengine.config import Config  # noqa: E402

from mmseg_spml.utils.cli import doc_parser  # noqa: E402
from mmseg_spml.utils.io import atomic_file  # noqa: E402
from mmseg_spml.utils.runs import train_command  # noqa: E402

DEMO_CONFIG = osp.join(
    ROOT,
    'configs',
    'spml',
    'spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
)
SWEEPS = ('batch', 'resolution', 'segments')
SECTIONS = ('loss', 'step', 'knn', 'train')

#: Sweep sizes. ``loss`` is the point every loss sweep varies one
#: option of; ``batch``, ``size`` and ``superpixel_size`` the values.
PROFILES = {
    'default': dict(
        loss=dict(batch=2, size=64, superpixel_size=8, grid=6, repeats=5),
        batch=[1, 2, 4],
        size=[32, 64, 96],
        superpixel_size=[16, 8, 4],
        knn=dict(images=[250, 1000, 4000], queries=1152, repeats=3),
        step=dict(batch=8, size=128, repeats=20, warmup=3),
        train=dict(batch=8, iters=10, warmup=3, small_data=False),
    ),
    'quick': dict(
        loss=dict(batch=1, size=16, superpixel_size=8, grid=2, repeats=1),
        batch=[1, 2],
        size=[16, 32],
        superpixel_size=[8, 4],
        knn=dict(images=[10, 40], queries=144, repeats=1),
        step=dict(batch=2, size=64, repeats=1, warmup=0),
        # 2 images per process: BN needs 2 values per channel (ASPP pool).
        train=dict(batch=4, iters=1, warmup=1, small_data=True),
    ),
}


class Runner:
    """Runs benchmark points in subprocesses and keeps their logs.

    Args:
        out (str): Output folder (logs go to ``out/logs``).
        device (str): ``cpu`` or ``cuda``.
        threads (int, optional): ``OMP_NUM_THREADS`` of the points.
        timeout (float): Seconds a point may run.
    """

    def __init__(
        self,
        out: str,
        device: str,
        threads: Optional[int],
        timeout: float,
    ) -> None:
        self.out = out
        self.device = device
        self.timeout = timeout
        self.logs = osp.join(out, 'logs')
        os.makedirs(self.logs, exist_ok=True)
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            [ROOT] + [p for p in [env.get('PYTHONPATH')] if p]
        )
        if threads:
            env['OMP_NUM_THREADS'] = env['MKL_NUM_THREADS'] = str(threads)
        if device == 'cpu':
            env['CUDA_VISIBLE_DEVICES'] = ''
        env.setdefault('MPLBACKEND', 'Agg')
        self.env = env
        self.failures: List[str] = []
        self.cpu_s = 0.0  # user + system time of all points

    def process(
        self, name: str, cmd: List[str], env: Optional[dict] = None
    ) -> Tuple[int, float, float]:
        """Run ``cmd`` from the repository root, output to a log file
        (``env``: variables added to the suite's environment).

        Returns:
            tuple: Exit code, wall seconds and the peak RSS (MiB) from
            ``wait4``'s rusage: the largest of the process and the
            children it waited for (e.g. dataloader workers).
        """
        log = osp.join(self.logs, name + '.log')
        print(f'[{time.strftime("%H:%M:%S")}] {name}', flush=True)
        start = time.perf_counter()
        with open(log, 'w') as f:
            f.write(' '.join(shlex.quote(c) for c in cmd) + '\n\n')
            f.flush()
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=dict(self.env, **(env or {})),
                stdout=f,
                stderr=subprocess.STDOUT,
            )
            killed = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if not killed and time.perf_counter() - start > self.timeout:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed = True
                time.sleep(0.1)
            if killed:
                f.write(f'\nkilled after {self.timeout:.0f} s\n')
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        self.cpu_s += usage.ru_utime + usage.ru_stime
        if proc.returncode != 0:
            self.failures.append(name)
            print(f'  failed (exit {proc.returncode}), see {log}', flush=True)
        return proc.returncode, wall, usage.ru_maxrss / 1024

    def script(
        self, name: str, script: str, args: Sequence[Any]
    ) -> Optional[Dict[str, Any]]:
        """Run a benchmark script with ``--json``; its result dict, or
        None if it failed."""
        fd, path = tempfile.mkstemp(suffix='.json', dir=self.logs)
        os.close(fd)
        try:
            cmd = [sys.executable, osp.join(HERE, script)]
            cmd += [str(a) for a in args]
            cmd += ['--device', self.device, '--json', path]
            rc, wall, _ = self.process(name, cmd)
            if rc != 0:
                return None
            with open(path) as f:
                result = json.load(f)
        finally:
            os.remove(path)
        result['wall_s'] = wall
        return result


def loss_points(profile: dict) -> Dict[str, List[dict]]:
    """The loss sweeps: per sweep name, the option dicts of its points."""
    keys = dict(batch='batch', resolution='size', segments='superpixel_size')
    sweeps = {}
    for sweep, key in keys.items():
        sweeps[sweep] = [
            dict(profile['loss'], **{key: value}) for value in profile[key]
        ]
    return sweeps


def run_loss(runner: Runner, profile: dict) -> Dict[str, List[dict]]:
    """Measure every distinct loss point once; results per sweep."""
    done: Dict[tuple, Optional[dict]] = {}
    sweeps = {}
    for sweep, points in loss_points(profile).items():
        sweeps[sweep] = []
        for point in points:
            key = tuple(sorted(point.items()))
            if key not in done:
                name = 'loss_b{batch}_s{size}_sp{superpixel_size}'.format(
                    **point
                )
                args = []
                for k, v in point.items():
                    args += ['--' + k.replace('_', '-'), v]
                done[key] = runner.script(name, 'segsort_loss.py', args)
            sweeps[sweep].append(dict(point=point, result=done[key]))
    return sweeps


def run_knn(runner: Runner, profile: dict) -> List[dict]:
    knn = profile['knn']
    rows = []
    for images in knn['images']:
        args = ['--images', images, '--queries', knn['queries']]
        args += ['--repeats', knn['repeats']]
        result = runner.script(f'knn_{images}', 'knn_search.py', args)
        rows.append(dict(images=images, result=result))
    return rows


def run_step(runner: Runner, profile: dict) -> Optional[dict]:
    step = profile['step']
    args = []
    for k in ('batch', 'size', 'repeats', 'warmup'):
        args += ['--' + k, step[k]]
    return runner.script('train_step', 'spml_train_step.py', args)


def parse_scalars(path: str, warmup: int) -> Dict[str, Any]:
    """Per-iteration times of a training log (``window_size=1``).

    Args:
        path (str): ``vis_data/scalars.json`` of an MMEngine run.
        warmup (int): Leading iterations left out.

    Returns:
        dict: ``times`` and ``data_times`` (s) of the timed iterations and
        ``memory_mib`` (CUDA runs only, else None).
    """
    rows = []
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            if 'time' in row and 'iter' in row:
                rows.append(row)
    rows = [r for r in rows if r['iter'] > warmup]
    memory = [r['memory'] for r in rows if 'memory' in r]
    return dict(
        times=[r['time'] for r in rows],
        data_times=[r.get('data_time', 0.0) for r in rows],
        memory_mib=max(memory) if memory else None,
    )


#: Training-throughput runs: (label, processes, norm type overriding the
#: config's or None, superpixels computed in the workers). Multi-process
#: runs are made on CPU only (gloo).
TRAIN_RUNS = (
    ('1 process', 1, None, False),
    ('1 process, superpixels computed in the workers', 1, None, True),
    ('2 processes, SyncBN as SPMLSyncBN', 2, None, False),
    ('2 processes, BN', 2, 'BN', False),
)


def workers_superpixel_options(config: str) -> List[str]:
    """``--cfg-options`` that make the training pipeline of ``config``
    compute its superpixels (``ComputeSuperpixels`` with the dataset's
    ``superpixels`` settings) in place of loading the ones the dataset
    computed once (``LoadSuperpixels``)."""
    dataset = Config.fromfile(config).train_dataloader.dataset
    kinds = [t['type'] for t in dataset.pipeline]
    if 'LoadSuperpixels' not in kinds or not dataset.get('superpixels'):
        raise ValueError(
            f'{config}: the training pipeline has no LoadSuperpixels of '
            'dataset-computed superpixels to replace'
        )
    i = kinds.index('LoadSuperpixels')
    key = f'train_dataloader.dataset.pipeline.{i}'
    options = ['train_dataloader.dataset.superpixels=None']
    options.append(f'{key}.type=ComputeSuperpixels')
    for name, value in dataset.superpixels.items():
        options.append(f'{key}.{name}={value}')
    return options


def run_train(
    runner: Runner,
    profile: dict,
    config: str,
    procs: int,
    norm: Optional[str],
    workers_superpixels: bool = False,
) -> Optional[dict]:
    """A short training run of ``procs`` processes at the profile's global
    batch (``tools/train.py``, or ``tools/dist_train.sh`` for several);
    median time per iteration."""
    train = profile['train']
    if train['batch'] % procs:
        raise ValueError(f'batch {train["batch"]} over {procs} processes')
    iters = train['warmup'] + train['iters']
    name = f'train_run_{procs}p' + (f'_{norm}' if norm else '')
    if workers_superpixels:
        name += '_compute_superpixels'
    work_dir = osp.join(runner.out, name)
    options = [
        f'train_cfg.max_iters={iters}',
        # No validation (the loop validates at max_iters otherwise).
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
        'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1000000',
        'default_hooks.checkpoint.save_last=False',
        'log_processor.window_size=1',  # raw per-iteration times
        f'train_dataloader.batch_size={train["batch"] // procs}',
    ]
    if norm:
        options += [
            f'model.backbone.norm_cfg.type={norm}',
            f'model.decode_head.norm_cfg.type={norm}',
        ]
    if workers_superpixels:
        options += workers_superpixel_options(config)
    if train['small_data']:
        options += [
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'train_dataloader.dataset.generator.num_train=8',
            'train_dataloader.dataset.generator.num_val=2',
            'train_dataloader.dataset.generator.size=64',
        ]
    cmd, env = train_command(osp.join(ROOT, 'tools'), config, procs)
    cmd += ['--work-dir', work_dir, '--cfg-options', *options]
    rc, wall, rss = runner.process(name, cmd, env)
    if rc != 0:
        return None
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data')))
    scalars = osp.join(runs[-1], 'scalars.json') if runs else ''
    if not osp.isfile(scalars):
        runner.failures.append(f'{name} (no scalars.json)')
        return None
    stats = parse_scalars(scalars, train['warmup'])
    if not stats['times']:
        runner.failures.append(f'{name} (no timed iterations)')
        return None
    t = median(stats['times'])
    return dict(
        config=osp.relpath(config, ROOT),
        log=name,
        processes=procs,
        norm=norm,
        workers_superpixels=workers_superpixels,
        batch=train['batch'],
        iters=train['iters'],
        warmup=train['warmup'],
        median_s=t,
        median_data_s=median(stats['data_times']),
        images_per_s=train['batch'] / t,
        times=stats['times'],
        rss_mib=rss,
        memory_mib=stats['memory_mib'],
        wall_s=wall,
    )


def run_train_all(
    runner: Runner, profile: dict, config: str
) -> Dict[str, Optional[dict]]:
    """:func:`run_train` for each of :data:`TRAIN_RUNS` this device makes,
    by label."""
    return {
        label: run_train(runner, profile, config, procs, norm, workers)
        for label, procs, norm, workers in TRAIN_RUNS
        if procs == 1 or runner.device == 'cpu'
    }


# --------------------------------------------------------------- report


def _fmt(value: Optional[float], digits: int = 2) -> str:
    return '-' if value is None else f'{value:.{digits}f}'


def environment_line(results: dict) -> str:
    env = None
    for item in _all_results(results):
        env = item.get('env')
        if env:
            break
    if env is None:
        import torch

        env = dict(
            device=results['device'],
            device_name=platform.machine(),
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            cpu_count=os.cpu_count(),
            python=platform.python_version(),
        )
    return (
        f'device `{env["device"]}` ({env["device_name"]}), torch '
        f'{env["torch"]}, {env["threads"]} threads, {env["cpu_count"]} '
        f'CPUs, Python {env["python"]}'
    )


def _all_results(results: dict) -> List[dict]:
    items = []
    for points in (results.get('loss') or {}).values():
        items += [p['result'] for p in points if p['result']]
    items += [r['result'] for r in results.get('knn') or [] if r['result']]
    if results.get('step'):
        items.append(results['step'])
    return items


def _mem_cells(result: dict) -> str:
    return (
        f'{result["peak_mib"]:.0f} | '
        f'{max(result["peak_mib"] - result["base_mib"], 0):.0f}'
    )


def report(results: dict) -> str:
    """The markdown tables of the suite's results."""
    cuda = results['device'].startswith('cuda')
    mem = 'CUDA max_memory_allocated' if cuda else 'peak RSS of the process'
    lines = [
        '# mmseg-spml benchmarks',
        '',
        f'- {environment_line(results)}',
        f'- command: `{results["command"]}` ({results["mode"]} sizes)',
        f'- date: {results["date"]}; suite wall time: '
        f'{_fmt(results.get("wall_s"), 0)} s (CPU time of the points: '
        f'{_fmt(results.get("cpu_s"), 0)} s)',
        '- times are medians over the repeats given per table; peak '
        f'memory is the {mem}, one fresh process per point; '
        '"Δ MiB" is the peak minus the memory in use once the inputs '
        'are built (the working memory of the measured step; approximate '
        'on CPU, where freed memory stays with the allocator)',
    ]
    load = results.get('load')
    if load and max(load) > (os.cpu_count() or 1):
        lines.append(
            f'- **the machine was busy**: 1-minute load average {load[0]:.1f}'
            f' at the start and {load[-1]:.1f} at the end on '
            f'{os.cpu_count()} CPUs (other jobs running): times are noisy '
            'and too high, the more so with several threads per process'
        )
    if results.get('failures'):
        lines.append(
            '- **failed points** (see `logs/`): '
            + ', '.join(results['failures'])
        )
    loss = results.get('loss')
    if loss is not None:
        base = results['profile']['loss']
        lines += [
            '',
            '## 1. SegSort loss: clustering and loss vs scale',
            '',
            f'Embeddings 64-d, k-means grid {base["grid"]}x{base["grid"]} '
            '(10 iterations), memory of 2 batches, 3 relations; segments '
            '= clusters ∩ scribble labels ∩ square superpixels. '
            'Clustering = k-means + segments; loss = clustering, '
            'prototypes, relations, forward + backward. '
            f'Repeats per point: {base["repeats"]}.',
            '',
            '| sweep | batch | embedding | superpixel | segments/batch | '
            'memory protos | clustering s | loss fwd+bwd s | peak MiB | '
            'Δ MiB |',
            '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: '
            '| ---: |',
        ]
        for sweep, points in loss.items():
            for p in points:
                pt, r = p['point'], p['result']
                head = (
                    f'| {sweep} | {pt["batch"]} | {pt["size"]}x{pt["size"]} '
                    f'| {pt["superpixel_size"]}px |'
                )
                if r is None:
                    lines.append(head + ' failed | | | | | |')
                    continue
                lines.append(
                    f'{head} {r["segments"]} | {r["memory_protos"]} | '
                    f'{r["clustering_s"]:.3f} | {r["step_s"]:.3f} | '
                    f'{_mem_cells(r)} |'
                )
    step = results.get('step', False)
    if step is not False:
        lines += ['', '## 2. Train step: SPML vs DeepLabV3 CE', '']
        if step is None:
            lines.append('failed (see `logs/train_step.log`)')
        else:
            lines += [
                'Same EfficientNet-Lite0 (d16) backbone, synthetic batch, '
                'forward + backward + SGD step, models alternating; '
                f'batch {step["batch"]}, input {step["size"]}x'
                f'{step["size"]}, {step["repeats"]} steps each after '
                f'{step["warmup"]} warm-up steps.',
                '',
                '| train step | median s | images/s |',
                '| --- | ---: | ---: |',
            ]
            for name, s in step['steps'].items():
                lines.append(
                    f'| {name} | {s["median_s"]:.3f} | '
                    f'{s["images_per_s"]:.2f} |'
                )
            lines.append(f'| SPML / CE time ratio | {step["ratio"]:.2f} | |')
            lines += [
                '',
                f'Peak memory of the process (both models): '
                f'{step["peak_mib"]:.0f} MiB.',
            ]
    knn = results.get('knn')
    if knn is not None:
        lines += [
            '',
            '## 3. kNN search vs memory size',
            '',
            '`knn_vote` (k=20, chunks of 4096 rows), 64-d prototypes, '
            '144 per image; repeats after a warm-up run: '
            f'{results["profile"]["knn"]["repeats"]}.',
            '',
            '| memory rows | memory MiB | queries | median s | queries/s | '
            'peak MiB | Δ MiB |',
            '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        ]
        for row in knn:
            r = row['result']
            if r is None:
                lines.append(f'| {row["images"]} images: failed | | | | | | |')
                continue
            lines.append(
                f'| {r["rows"]} | {r["memory_mib"]:.0f} | {r["queries"]} | '
                f'{r["median_s"]:.3f} | {r["queries_per_s"]:.0f} | '
                f'{_mem_cells(r)} |'
            )
    train = results.get('train', False)
    if train is not False:
        lines += ['', '## 4. Training throughput (demo SPML config)', '']
        done = [r for r in train.values() if r]
        if done:
            lines += [
                f'`tools/train.py {done[0]["config"]}` (several processes: '
                '`tools/dist_train.sh CONFIG N`, gloo), real data pipeline '
                '(dataloader workers as configured), no validation; '
                f'global batch {done[0]["batch"]}, {done[0]["iters"]} timed '
                f'iterations after {done[0]["warmup"]} warm-up iterations.',
                '',
            ]
        lines += [
            '| run | batch per process | median s/iter | '
            'median data s/iter | images/s | peak MiB |',
            '| --- | ---: | ---: | ---: | ---: | ---: |',
        ]
        for label, r in train.items():
            if r is None:
                lines.append(f'| {label} | failed (see `logs/`) | | | | |')
                continue
            lines.append(
                f'| {label} | {r["batch"] // r["processes"]} | '
                f'{r["median_s"]:.3f} | {r["median_data_s"]:.3f} | '
                f'{r["images_per_s"]:.2f} | '
                f'{_fmt(r["memory_mib"] or r["rss_mib"], 0)} |'
            )
        if done:
            lines += [
                '',
                'Peak MiB: CUDA memory logged by MMEngine on GPU, else the '
                'peak RSS of the largest of the training processes and '
                'their dataloader workers (not their sum).',
            ]
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------- plots


def _save(fig, path: str) -> None:
    """Save a figure as PNG atomically."""
    with atomic_file(path) as f:
        fig.savefig(f, format='png', dpi=100, bbox_inches='tight')


def plot(results: dict, out: str) -> List[str]:
    """Write the PNG plots; returns their paths."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    paths = []
    device = results['device']
    loss = results.get('loss')
    if loss:
        xlabels = dict(
            batch='batch size',
            resolution='embedding side (pixels)',
            segments='segments per batch',
        )
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), squeeze=False)
        for col, sweep in enumerate(SWEEPS):
            ok = [p for p in loss.get(sweep, []) if p['result']]
            if sweep == 'batch':
                xs = [p['point']['batch'] for p in ok]
            elif sweep == 'resolution':
                xs = [p['point']['size'] for p in ok]
            else:
                xs = [p['result']['segments'] for p in ok]
            rs = [p['result'] for p in ok]
            ax = axes[0][col]
            ax.plot(xs, [r['step_s'] for r in rs], 'o-', label='loss fwd+bwd')
            ax.plot(
                xs, [r['clustering_s'] for r in rs], 's--', label='clustering'
            )
            ax.set_ylabel('median seconds')
            ax.set_title(f'SegSort loss vs {sweep} ({device})')
            ax.legend()
            ax = axes[1][col]
            ax.plot(xs, [r['peak_mib'] for r in rs], 'o-', label='peak')
            ax.plot(
                xs,
                [max(r['peak_mib'] - r['base_mib'], 0) for r in rs],
                's--',
                label='Δ over start',
            )
            ax.set_ylabel('MiB')
            ax.set_xlabel(xlabels[sweep])
            ax.legend()
        paths.append(osp.join(out, 'loss_scaling.png'))
        _save(fig, paths[-1])
        plt.close(fig)
    knn = [r['result'] for r in results.get('knn') or [] if r['result']]
    if knn:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([r['rows'] for r in knn], [r['queries_per_s'] for r in knn])
        ax.scatter([r['rows'] for r in knn], [r['queries_per_s'] for r in knn])
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xticks([r['rows'] for r in knn])
        ax.set_xticklabels([f'{r["rows"]:,}' for r in knn])
        ax.set_xlabel('memory rows')
        ax.set_ylabel('queries / s')
        ax.set_title(f'kNN search throughput ({device})')
        paths.append(osp.join(out, 'knn_throughput.png'))
        _save(fig, paths[-1])
        plt.close(fig)
    bars = {}
    if results.get('step'):
        for name, s in results['step']['steps'].items():
            bars[f'{name} train step'] = s['images_per_s']
    for label, r in (results.get('train') or {}).items():
        if r:
            bars[f'SPML demo run, {label}'] = r['images_per_s']
    if bars:
        fig, ax = plt.subplots(figsize=(7, 0.6 * len(bars) + 1.2))
        ax.barh(list(bars)[::-1], list(bars.values())[::-1])
        ax.set_xlabel('images / s')
        ax.set_title(f'Training throughput ({device})')
        paths.append(osp.join(out, 'train_throughput.png'))
        _save(fig, paths[-1])
        plt.close(fig)
    return paths


# ----------------------------------------------------------------- main


def _load() -> Tuple[float, ...]:
    """The 1-minute load average (empty where unknown)."""
    try:
        return (os.getloadavg()[0],)
    except (AttributeError, OSError):
        return ()


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--quick', action='store_true', help='tiny sizes: a smoke test'
    )
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='parts to run (default: all)',
    )
    parser.add_argument(
        '--threads', type=int, help='OMP_NUM_THREADS of the points'
    )
    parser.add_argument(
        '--train-config',
        default=DEMO_CONFIG,
        help='config of the training-throughput run (part 4)',
    )
    parser.add_argument(
        '--timeout',
        type=float,
        default=600,
        help='seconds one point may run (default: 600)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    mode = 'quick' if args.quick else 'default'
    profile = copy.deepcopy(PROFILES[mode])
    runner = Runner(args.out, args.device, args.threads, args.timeout)
    command = ' '.join(
        shlex.quote(a)
        for a in ['python', osp.relpath(__file__, ROOT)]
        + list(sys.argv[1:] if argv is None else argv)
    )
    results: Dict[str, Any] = dict(
        load=list(_load()),
        device=args.device,
        mode=mode,
        profile=profile,
        command=command,
        date=datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%d %H:%M UTC'
        ),
    )

    def save() -> None:
        results['load'] = results['load'][:1] + list(_load())
        results['wall_s'] = time.perf_counter() - start
        results['cpu_s'] = runner.cpu_s
        results['failures'] = list(runner.failures)
        write_json(osp.join(args.out, 'results.json'), results)
        write_text(osp.join(args.out, 'benchmark.md'), report(results))

    if 'loss' in args.sections:
        results['loss'] = run_loss(runner, profile)
        save()
    if 'step' in args.sections:
        results['step'] = run_step(runner, profile)
        save()
    if 'knn' in args.sections:
        results['knn'] = run_knn(runner, profile)
        save()
    if 'train' in args.sections:
        results['train'] = run_train_all(runner, profile, args.train_config)
        save()
    plots = plot(results, args.out)
    save()
    print(report(results))
    print(
        f'wrote {osp.join(args.out, "benchmark.md")} and '
        f'{", ".join(osp.basename(p) for p in plots)} in '
        f'{results["wall_s"]:.0f} s',
        flush=True,
    )
    return 1 if runner.failures else 0


if __name__ == '__main__':
    sys.exit(main())
