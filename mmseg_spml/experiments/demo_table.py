# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The demo's results table: mean ± std over seeds of every stage, each
type's ratio to the same seeds' full supervision."""

from typing import Dict, List

from mmseg_spml.utils.runs import format_mean_std

from .demo import BASELINE_LABELS


def _cell(results: List[dict], *keys: str) -> str:
    """``mean ± std`` over seeds of ``result[k0][k1]...`` (blank if
    missing)."""
    values = []
    for result in results:
        for key in keys:
            result = (result or {}).get(key)
        if result is None:
            return ''
        values.append(result)
    return format_mean_std(values)


def format_table(per_seed: Dict[int, dict], types: List[str]) -> str:
    """The markdown table over seeds (mean ± std where several).

    Args:
        per_seed (dict): Seed -> its rows (:meth:`~.DemoSeed.run` or
            :meth:`~.DemoSeed.report`); a seed may lack some types.
        types (list[str]): The rows to show, where any seed has them.

    Returns:
        str: One row per type, each over the seeds that have it (listed in
        its last column), its ratio to the same seeds' full supervision.
    """
    lines = [
        '| supervision | baseline | baseline mIoU | SPML stage 1 | '
        'pseudo labels (train) | SPML final | final / full | seeds |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    with_full = {s: r for s, r in per_seed.items() if 'full masks' in r}
    if not with_full:
        return '\n'.join(lines)
    lines.append(
        f'| full masks | CE | | | | '
        f'{_cell(list(with_full.values()), "full masks", "final", "mIoU")} '
        f'| 100 % | {", ".join(map(str, with_full))} |'
    )
    for kind in types:
        seeds = [s for s, r in with_full.items() if kind in r]
        if not seeds:
            continue
        rows = [with_full[s][kind] for s in seeds]
        full = [with_full[s]['full masks']['final']['mIoU'] for s in seeds]
        ratio = [100 * r['final']['mIoU'] / f for r, f in zip(rows, full) if f]
        name = kind + (' (CAM labels, 2 rounds)' if kind == 'tags' else '')
        lines.append(
            f'| {name} | {BASELINE_LABELS[kind]} | '
            f'{_cell(rows, "baseline", "mIoU")} | '
            f'{_cell(rows, "stage1", "mIoU")} | '
            f'{_cell(rows, "pseudo", "mIoU")} | '
            f'{_cell(rows, "final", "mIoU")} | '
            f'{format_mean_std(ratio) if ratio else ""} % | '
            f'{", ".join(map(str, seeds))} |'
        )
    return '\n'.join(lines)
