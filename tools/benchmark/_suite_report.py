# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The benchmark suite's markdown tables and plots (``run_suite.py``)."""

import os
import os.path as osp
import platform
from typing import List, Optional

from mmseg_spml.utils.io import atomic_file

#: The loss sweeps, in the order of the tables and plots.
SWEEPS = ('batch', 'resolution', 'segments')


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
