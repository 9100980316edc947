# Copyright (c) mmseg-spml contributors. All rights reserved.
r"""One prepared check of mmseg-spml on a CUDA machine, in a few minutes.

Run from the repository root on the GPU machine, with the wheels made by
``tools/benchmark/gpu_check_wheels.sh`` in ``.whl/`` (copied along):

1. installs what the machine lacks from ``--wheels`` into ``--site``
   (pip, no index) and builds mmcv 2.1.0 from its sdist with CPU ops on
   all cores unless ``mmcv.ops`` already imports; prints the versions;
2. runs the tests that need CUDA (``pytest -m cuda tests``);
3. trains the demo SPML config for ``--iters`` iterations in fp32 and with
   ``--amp`` (fp16), checking that every logged loss is finite, with the
   median s/iter and the peak CUDA memory of each;
4. times the SegSort loss at the paper's VOC scale (batch 16, 64-d 128x128
   embeddings, 6x6 grid, memory 2, all relations; median of repeats, peak
   memory) and the SPML / DeepLabV3-CE train-step ratio on the device;
5. writes ``OUT/gpu_check.json`` and ``OUT/gpu_check.md``, after every
   stage (a stage cut short by its time limit still leaves the others').

Every stage runs in its own process with a time limit and is recorded as
passed or failed with the tail of its output, so one failure does not hide
the rest; the exit code is 1 if any stage failed. The orchestration uses
the standard library only (it runs before anything is installed).
``--dry-run`` runs the same stages on the CPU at tiny sizes, without
installing: CI runs it so the script cannot rot.

Example:
    python tools/benchmark/gpu_check.py $OUT
    python tools/benchmark/gpu_check.py /tmp/gpu_check --dry-run
"""

import argparse
import glob
import json
import math
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    'configs',
    'spml',
    'spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py',
)
MMCV_VERSION = '2.1.0'
VERSIONS = (
    'import sys, torch, mmcv, mmengine, mmseg, mmseg_spml, mmcv.ops\n'
    'print(f"python {sys.version.split()[0]}, torch {torch.__version__}, '
    'cuda {torch.version.cuda}, gpu '
    '{torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}'
    ', mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, '
    'mmseg {mmseg.__version__}, mmseg_spml {mmseg_spml.__version__}")\n'
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=__doc__[__doc__.index('Example:') :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('out', help='folder of the record')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='same stages on the CPU at tiny sizes, nothing installed',
    )
    parser.add_argument('--wheels', default=osp.join(ROOT, '.whl'))
    parser.add_argument('--site', default='/tmp/site')
    parser.add_argument(
        '--iters',
        type=int,
        default=300,
        help='training iterations per precision (default 300)',
    )
    parser.add_argument(
        '--repeats', type=int, default=5, help='timed repeats of benchmarks'
    )
    return parser.parse_args(argv)


class Check:
    """Runs the stages and keeps the record up to date on disk."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = osp.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        paths = [ROOT, self.env.get('PYTHONPATH', '')]
        if not args.dry_run:
            paths.insert(0, args.site)
        self.env['PYTHONPATH'] = os.pathsep.join(p for p in paths if p)
        self.record: Dict[str, dict] = {}
        self.started = time.time()

    def run(self, name: str, cmd: List[str], timeout: float, **extra) -> dict:
        """Run one stage's command; record its status, time and output."""
        print(f'[gpu_check] {name}: {" ".join(cmd)}', flush=True)
        start = time.time()
        try:
            proc = subprocess.run(
                cmd,
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
            output, code = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            output = (
                (e.stdout or b'').decode()
                if isinstance(e.stdout, bytes)
                else (e.stdout or '')
            )
            code = f'timed out after {timeout:.0f} s'
        entry = dict(
            ok=code == 0,
            code=code,
            seconds=round(time.time() - start, 1),
            tail=output[-2000:],
            **extra,
        )
        self.record[name] = entry
        print(output[-4000:], flush=True)
        self.save()
        return entry

    def fail(self, name: str, message: str) -> None:
        """Record a stage as failed without running anything."""
        self.record[name] = dict(ok=False, code=message, seconds=0, tail='')
        self.save()

    def save(self) -> None:
        """Write the JSON and markdown records, atomically."""
        doc = dict(
            dry_run=self.args.dry_run,
            seconds=round(time.time() - self.started, 1),
            stages=self.record,
        )
        _write(osp.join(self.out, 'gpu_check.json'), json.dumps(doc, indent=1))
        _write(osp.join(self.out, 'gpu_check.md'), markdown(doc))


def _write(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.tmp')
    with os.fdopen(fd, 'w') as f:
        f.write(text + '\n')
    os.replace(tmp, path)


def markdown(doc: dict) -> str:
    """The record as a markdown table, one row per stage."""
    kind = 'CPU dry run' if doc['dry_run'] else 'CUDA'
    lines = [
        f'# gpu_check ({kind}, {doc["seconds"]:.0f} s)',
        '',
        '| stage | result | seconds | numbers |',
        '| --- | --- | ---: | --- |',
    ]
    for name, entry in doc['stages'].items():
        numbers = entry.get('numbers', {})
        cells = ', '.join(f'{k} {v}' for k, v in numbers.items())
        result = 'ok' if entry['ok'] else f'FAILED ({entry["code"]})'
        lines.append(f'| {name} | {result} | {entry["seconds"]} | {cells} |')
    versions = doc['stages'].get('versions', {}).get('tail', '').strip()
    if versions:
        lines += ['', versions.splitlines()[-1]]
    return '\n'.join(lines)


def install(check: Check) -> None:
    """Wheels into the site folder; mmcv built from its sdist if needed."""
    args = check.args
    probe = [sys.executable, '-c', 'import mmcv.ops, mmseg, mmengine']
    if (
        subprocess.run(probe, env=check.env, capture_output=True).returncode
        == 0
    ):
        print('[gpu_check] install: mmcv.ops, mmseg and mmengine import')
        check.record['install'] = dict(
            ok=True, code=0, seconds=0, tail='already importable'
        )
        return
    if args.dry_run:
        check.fail('install', 'dry run: mmcv/mmseg do not import here')
        return
    wheels = sorted(glob.glob(osp.join(args.wheels, '*.whl')))
    sdists = glob.glob(osp.join(args.wheels, f'mmcv-{MMCV_VERSION}.tar.gz'))
    if not wheels or not sdists:
        check.fail(
            'install',
            f'{args.wheels} needs the wheels and mmcv-{MMCV_VERSION}.tar.gz '
            'of tools/benchmark/gpu_check_wheels.sh',
        )
        return
    pip = [sys.executable, '-m', 'pip', 'install', '-q', '--no-index']
    pip += ['--no-deps', '--no-compile', '--no-cache-dir', '--upgrade']
    check.run('install wheels', pip + ['--target', args.site, *wheels], 180)
    build = osp.join(args.site, '..', 'mmcv_build')
    check.env.update(
        MMCV_WITH_OPS='1', FORCE_CUDA='0', MAX_JOBS=str(os.cpu_count())
    )
    check.run(
        'build mmcv',
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps']
        + ['--no-build-isolation', '--no-index', '-w', build, sdists[0]],
        420,
    )
    built = glob.glob(osp.join(build, f'mmcv-{MMCV_VERSION}-*.whl'))
    if built:
        check.run('install mmcv', pip + ['--target', args.site, built[0]], 60)


def scalars(work_dir: str) -> List[dict]:
    """The training log's records (``vis_data/scalars.json``)."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    if not files:
        return []
    with open(max(files, key=osp.getmtime)) as f:
        return [json.loads(line) for line in f if line.strip()]


def train(check: Check, amp: bool) -> None:
    """The demo SPML config for ``--iters`` iterations; finite losses,
    s/iter and peak memory into the record."""
    args = check.args
    name = 'train fp16' if amp else 'train fp32'
    if args.dry_run:
        name = 'train amp (bf16 on CPU)' if amp else 'train fp32'
    iters = 2 if args.dry_run else args.iters
    work = osp.join(check.out, 'work_dirs', name.split()[1])
    cmd = [sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir', work]
    cmd += ['--amp'] if amp else []
    cmd += [
        '--cfg-options',
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        'default_hooks.logger.interval=' + ('1' if args.dry_run else '10'),
        f'default_hooks.checkpoint.interval={iters}',
        'randomness.seed=0',
    ]
    if args.dry_run:
        cmd += [
            'train_dataloader.batch_size=2',
            'val_dataloader.dataset.indices=2',
        ]
    entry = check.run(name, cmd, 90 if args.dry_run else 240)
    logs = [r for r in scalars(work) if 'loss' in r]
    losses = [r['loss'] for r in logs]
    times = [r['time'] for r in logs if 'time' in r][1:]  # after warm-up
    finite = bool(losses) and all(math.isfinite(v) for v in losses)
    numbers = dict(logged=len(losses), finite=finite)
    if times:
        numbers['s/iter'] = round(statistics.median(times), 4)
    if any('memory' in r for r in logs):
        numbers['peak MiB'] = max(r.get('memory', 0) for r in logs)
    val = [r for r in scalars(work) if 'mIoU' in r]
    if val:
        numbers['val mIoU'] = round(val[-1]['mIoU'], 2)
    entry.update(numbers=numbers, ok=entry['ok'] and finite)
    check.save()


def benchmark(check: Check, script: str, name: str, options: List[str]):
    """One ``tools/benchmark`` script with ``--json``; its numbers."""
    out = osp.join(check.out, f'{script}.json')
    device = 'cpu' if check.args.dry_run else 'cuda'
    cmd = [sys.executable, f'tools/benchmark/{script}.py', '--device', device]
    cmd += ['--json', out, *options]
    entry = check.run(name, cmd, 60 if check.args.dry_run else 150)
    if entry['ok'] and osp.isfile(out):
        with open(out) as f:
            data = json.load(f)
        keys = ('step_s', 'clustering_s', 'peak_mib', 'segments', 'ratio')
        entry['numbers'] = {
            k: round(data[k], 4) if isinstance(data[k], float) else data[k]
            for k in keys
            if k in data
        }
        for label, step in data.get('steps', {}).items():
            entry['numbers'][f'{label} s'] = round(step['median_s'], 4)
        check.save()


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    check = Check(args)
    install(check)
    check.run('versions', [sys.executable, '-c', VERSIONS], 120)
    pytest = [sys.executable, '-m', 'pytest', '-q', '-m', 'cuda', 'tests']
    check.run('cuda tests', pytest + ['-p', 'no:cacheprovider'], 180)
    train(check, amp=False)
    train(check, amp=True)
    repeats = ['--repeats', '1' if args.dry_run else str(args.repeats)]
    scale = ['--batch', '1', '--size', '16'] if args.dry_run else []
    benchmark(
        check, 'segsort_loss', 'SegSort loss, paper scale', scale + repeats
    )
    step = (
        ['--batch', '2', '--size', '32', '--warmup', '0']
        if args.dry_run
        else []
    )
    benchmark(check, 'spml_train_step', 'SPML / CE train step', step + repeats)
    failed = [k for k, v in check.record.items() if not v['ok']]
    print(f'[gpu_check] record in {check.out}; failed: {failed or "none"}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
