# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The benchmark suite's points (``run_suite.py``): each benchmark script
or short training in a fresh subprocess, with its log, wall time and peak
memory."""

import glob
import json
import os
import os.path as osp
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from _common import median
from mmengine.config import Config

from mmseg_spml.utils.runs import train_command

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))


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
