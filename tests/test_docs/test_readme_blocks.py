# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Every fenced code block of README.md and configs/*/README.md runs or
builds, so the documentation cannot drift from the code.

One test per block (id ``FILE:LINE`` of its opening fence):

* ``bash``: each command (backslash continuations joined, comments
  dropped, ``&&``/``;``/``|`` and ``$(...)`` split) must be known.
  ``python tools/X.py`` / ``python -m M``: the script or module exists and
  every ``--option`` the command uses is in its ``--help`` (all scripts'
  help is produced once per session, see ``help_runner.py``);
  ``tools/*.sh``: executable, and the launchers' pass-through options are
  checked against the python tool they forward to; ``make T``: the
  Makefile has target T; a few plain shell utilities are accepted by
  name; anything else fails, so a new kind of command gets a decision
  here. Repository paths named in a command (``configs/...``,
  ``tools/...``) must exist.
* ``python``: compiles. Config fragments (``dict(``/``_base_``) are
  loaded (merged onto a base config where ``PYTHON_CASES`` names one),
  every ``type`` in them must be registered, and ``model``, the
  dataloaders' datasets (``lazy_init``), ``custom_hooks`` and
  ``visualizer`` are built; the README's DeepLabV3 -> SPML fragment also
  takes one loss step on a tiny batch. Other examples are executed with
  the inputs ``PYTHON_CASES`` gives them, in a temporary folder.
  ``COMPILE_ONLY`` lists blocks only compiled, each with its reason.
* ``yaml``: parses. ``SKIPPED_LANGUAGES``: skipped, by name, with why.
"""

import copy
import functools
import glob
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import pytest

from tests.helpers.tools import ROOT

DOCS = ['README.md'] + sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '*', 'README.md'))
)
FENCE = re.compile(r'^(\s*)(`{3,})\s*([\w+-]*)\s*$')

SKIPPED_LANGUAGES = {
    '': 'plain fences hold layout trees and printed tool output',
    'text': 'printed output, not code',
    'bibtex': 'citations',
}
BASH_LANGUAGES = ('bash', 'sh', 'shell')
# Plain shell utilities the README uses to unpack and write files; their
# options are the shell's business, not the repository's.
SHELL_UTILITIES = {'mkdir', 'tar', 'unzip', 'printf', 'cd', 'echo'}
PYTHONS = {'python', 'python3', '.venv/bin/python', '$PY', '"$PYTHON"'}
# Launch scripts that pass their trailing arguments to a python tool:
# (tool, number of positional arguments before them).
LAUNCHERS = {
    'tools/dist_train.sh': ('tools/train.py', 2),
    'tools/dist_test.sh': ('tools/test.py', 3),
    'tools/slurm_train.sh': ('tools/train.py', 3),
    'tools/slurm_test.sh': ('tools/test.py', 4),
}
REPO_PATH = re.compile(r'^(configs|tools)/[\w./-]+\.(py|sh)$')
OPTION = re.compile(r'(?<![\w-])(--[A-Za-z][\w-]*)')


@dataclass
class Block:
    doc: str
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    closed: bool = True

    @property
    def id(self) -> str:
        return f'{self.doc}:{self.line}'


def collect_blocks(doc: str) -> List[Block]:
    blocks, current, fence = [], None, ''
    with open(osp.join(ROOT, doc), encoding='utf-8') as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if current is None:
            if match:
                fence = match.group(2)
                current = Block(doc, i, match.group(3).lower(), '')
        elif match and match.group(2) == fence and not match.group(3):
            blocks.append(current)
            current = None
        else:
            current.text += line + '\n'
    if current is not None:
        current.closed = False
        blocks.append(current)
    return blocks


BLOCKS = [b for doc in DOCS for b in collect_blocks(doc)]


def block_with(key: str) -> Block:
    found = [b for b in BLOCKS if key in b.text]
    assert len(found) == 1, (
        f'{key!r} should name exactly one block, found {len(found)}: '
        f'{[b.id for b in found]}'
    )
    return found[0]


# --------------------------------------------------------------------- bash
def split_commands(text: str) -> List[List[str]]:
    """Commands of a bash block as argument lists; ``$(...)`` bodies are
    commands of their own and leave ``$(...)`` in the outer one."""
    text = re.sub(r'\\\n', ' ', text)
    commands = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        outer = line
        for inner in re.findall(r'\$\(([^()]*)\)', line):
            commands.extend(split_commands(inner))
            outer = outer.replace(f'$({inner})', '$(...)')
        lexer = shlex.shlex(outer, posix=True, punctuation_chars=';&|<>')
        lexer.whitespace_split = True
        lexer.commenters = '#'
        command = []
        for token in lexer:
            if token in {'&&', '||', ';', '|', '&'}:
                commands.append(command)
                command = []
            else:
                command.append(token)
        commands.append(command)
    return [c for c in commands if c]


def strip_assignments(command: List[str]) -> List[str]:
    """Drop leading ``VAR=value`` words (environment for the command)."""
    i = 0
    while i < len(command) and re.match(r'^[A-Za-z_]\w*=', command[i]):
        i += 1
    return command[i:]


def python_target(command: List[str]) -> Optional[str]:
    """``tools/x.py`` or ``-m module`` of a python command, else None."""
    if not command or command[0] not in PYTHONS:
        return None
    args = command[1:]
    if args[:1] == ['-m']:
        return f'-m {args[1]}'
    assert args, f'{command}: python without a script'
    return args[0]


def python_targets() -> List[str]:
    targets = set()
    for block in BLOCKS:
        if block.lang not in BASH_LANGUAGES:
            continue
        for command in split_commands(block.text):
            command = strip_assignments(command)
            target = python_target(command)
            if target is None and command and command[0] in LAUNCHERS:
                target = LAUNCHERS[command[0]][0]
            if target and (
                target.startswith('-m ') or osp.isfile(osp.join(ROOT, target))
            ):
                targets.add(target)
    return sorted(targets)


@functools.lru_cache(maxsize=None)
def help_texts() -> Dict[str, dict]:
    """``--help`` of every python tool the bash blocks run: one subprocess
    for all of them (each in a fork of it), run from the repository root."""
    args = []
    for target in python_targets():
        args += target.split(' ', 1) if target.startswith('-m ') else [target]
    env = dict(
        os.environ, COLUMNS='200', CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1'
    )
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p]
    )
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(ROOT, 'tests', 'test_docs', 'help_runner.py'),
        ]
        + args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def check_options(target: str, args: List[str], where: str) -> None:
    helps = help_texts()
    assert target in helps, f'{where}: no --help collected for {target}'
    result = helps[target]
    assert result['rc'] == 0, (
        f'{where}: `{target} --help` exited with {result["rc"]}:\n'
        f'{result["out"][-3000:]}'
    )
    used = sorted({m for a in args for m in OPTION.findall(a)})
    missing = [
        o
        for o in used
        if not re.search(rf'(?<![\w-]){o}(?![\w-])', result['out'])
    ]
    assert not missing, (
        f'{where}: {target} has no option {missing} (its --help:\n'
        f'{result["out"]})'
    )
    # An option with choices ({a,b} in the help, "[{a,b} ...]" after it
    # for several values): each value given is one of them.
    choices = {
        opt: (values.split(','), bool(several))
        for opt, values, several in re.findall(
            r'(--[\w-]+) \{([^}]*)\}( \[\{)?', result['out']
        )
    }
    for i, arg in enumerate(args):
        if arg.strip('[') not in choices:
            continue
        allowed, several = choices[arg.strip('[')]
        values = []
        for value in args[i + 1 : i + 2] if not several else args[i + 1 :]:
            if value.startswith('-') or value.startswith('[-'):
                break
            values.append(value.strip('[]'))
        for value in values:
            if re.fullmatch(r'[a-z][\w+.-]*', value):  # not CONFIG, $X, ...
                assert value in allowed, (
                    f'{where}: {arg} {value}: {target} takes one of {allowed}'
                )


@functools.lru_cache(maxsize=None)
def make_targets() -> frozenset:
    with open(osp.join(ROOT, 'Makefile')) as f:
        return frozenset(
            re.findall(r'^([A-Za-z0-9_.-]+)\s*:(?!=)', f.read(), re.MULTILINE)
        )


def check_command(command: List[str], where: str) -> None:
    assignments = command[: len(command) - len(strip_assignments(command))]
    command = strip_assignments(command)
    for word in assignments + command:
        path = word.split('=', 1)[1] if word in assignments else word
        if REPO_PATH.match(path):
            assert osp.exists(osp.join(ROOT, path)), (
                f'{where}: {path} is missing'
            )
    if not command:  # VAR=value only
        return
    program = command[0]
    target = python_target(command)
    if target is not None:
        if target.startswith('-m '):
            import importlib.util

            assert importlib.util.find_spec(target[3:]) is not None, (
                f'{where}: no module {target[3:]}'
            )
            args = command[3:]
        else:
            assert osp.isfile(osp.join(ROOT, target)), f'{where}: no {target}'
            args = command[2:]
        check_options(target, args, where)
    elif program == 'make':
        targets = [
            a for a in command[1:] if not a.startswith('-') and '=' not in a
        ]
        missing = [t for t in targets if t not in make_targets()]
        assert not missing, f'{where}: the Makefile has no target {missing}'
    elif program.startswith('tools/') and program.endswith('.sh'):
        path = osp.join(ROOT, program)
        assert osp.isfile(path), f'{where}: no {program}'
        assert os.access(path, os.X_OK), (
            f'{where}: {program} is not executable'
        )
        if program in LAUNCHERS:
            tool, num_positional = LAUNCHERS[program]
            with open(path) as f:
                assert osp.basename(tool) in f.read(), (
                    f'{program} no longer launches {tool}: update LAUNCHERS'
                )
            args = command[1:]
            positional = 0
            while positional < len(args) and not args[positional].startswith(
                '-'
            ):
                positional += 1
            assert positional >= num_positional, (
                f'{where}: {program} takes {num_positional} positional '
                f'arguments, the command gives {positional}'
            )
            check_options(tool, args[num_positional:], where)
    elif program == 'mim':
        # mim train/test PACKAGE CONFIG [options of our train.py/test.py],
        # mim search PACKAGE: our package; its options are our tools'.
        assert command[1:3] in (
            ['train', 'mmseg_spml'],
            ['test', 'mmseg_spml'],
            ['search', 'mmseg_spml'],
        ), f'{where}: mim commands documented here are train/test/search'
        if command[1] != 'search':
            tool = f'tools/{command[1]}.py'
            positional = 2 if command[1] == 'test' else 1
            check_options(tool, command[3 + positional :], where)
    elif program in SHELL_UTILITIES:
        pass
    else:
        raise AssertionError(
            f'{where}: unknown command {shlex.join(command)!r}: decide how '
            'to check it in tests/test_docs/test_readme_blocks.py'
        )


def check_bash(block: Block) -> None:
    commands = split_commands(block.text)
    assert commands, f'{block.id}: no command in the block'
    for command in commands:
        check_command(command, f'{block.id}: {shlex.join(command)}')


# ------------------------------------------------------------------- python
def tiny_loss_step(model, num_classes: int, size: int = 32) -> dict:
    """One training step of ``model`` on 2 random images with weak-label
    fields (superpixels, tags); returns the losses."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    model.data_preprocessor.size = (size, size)  # the config's crop: 512
    model.train()
    samples = []
    for _ in range(2):
        label = torch.randint(0, num_classes, (1, size, size))
        label[:, : size // 2] = 254  # unlabelled, as weak labels are
        sample = SegDataSample(
            gt_sem_seg=PixelData(data=label),
            metainfo=dict(
                img_shape=(size, size),
                pad_shape=(size, size),
                ori_shape=(size, size),
                img_tags=sorted(set(label.unique().tolist()) - {254}),
            ),
        )
        superpixels = torch.arange(size * size).view(1, size, size) // 64
        sample.set_data(dict(gt_superpixel=PixelData(data=superpixels)))
        samples.append(sample)
    inputs = list(torch.rand(2, 3, size, size) * 255)
    data = model.data_preprocessor(
        dict(inputs=inputs, data_samples=samples), True
    )
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total), losses
    total.backward()
    return losses


def write_checkpoint(config: str, path: str) -> None:
    """A checkpoint of ``config``'s model as MMEngine's runner writes one:
    meta with numpy scalars and a message hub of ``HistoryBuffer`` s (what
    ``torch.load(weights_only=True)`` rejects without the plugin)."""
    import numpy as np
    import torch
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmseg.registry import DATASETS, MODELS

    cfg = Config.fromfile(osp.join(ROOT, config))
    model = MODELS.build(cfg.model)
    hub = MessageHub.get_instance('test_readme_blocks')
    hub.update_scalar('train/loss', np.float64(0.5))
    classes = DATASETS.get(cfg.train_dataloader.dataset.type).METAINFO
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    torch.save(
        dict(
            meta=dict(
                iter=1000,
                seed=np.int64(0),
                dataset_meta=dict(classes),
                message_hub=hub.state_dict(),
            ),
            state_dict=model.state_dict(),
        ),
        path,
    )


DEMO_BASELINE = (
    'configs/baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py'
)
DEMO_SPML = (
    'configs/spml/spml_efflite0-d16_1xb8-1k_demo-scenes-scribbles-128x128.py'
)


def given_train_pipeline(tmp_path) -> dict:
    """The fragment passes the dataset config's own ``train_pipeline``."""
    from mmengine.config import Config

    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/datasets/demo_scenes.py')
    )
    return dict(train_pipeline=cfg.train_pipeline.copy())


def given_checkpoint_layout(tmp_path) -> dict:
    """The paths of the block, relative to a temporary working folder:
    ``configs/`` of the repository and the checkpoint ``make demo``
    writes (here: the untrained model, saved like MMEngine does)."""
    os.symlink(osp.join(ROOT, 'configs'), tmp_path / 'configs')
    write_checkpoint(
        DEMO_BASELINE,
        str(tmp_path / 'work_dirs/demo_quick/seed0/full_masks/iter_400.pth'),
    )
    return {}


def given_inferencer_inputs(tmp_path) -> dict:
    """``CFG`` and ``CKPT`` of the usage block above it, and an image."""
    import cv2
    import numpy as np

    ckpt = str(tmp_path / 'spml_demo.pth')
    write_checkpoint(DEMO_SPML, ckpt)
    rng = np.random.default_rng(0)
    cv2.imwrite(
        str(tmp_path / 'demo.jpg'),
        rng.integers(0, 255, (96, 128, 3), np.uint8),
    )
    return dict(CFG=osp.join(ROOT, DEMO_SPML), CKPT=ckpt)


def given_refinement_inputs(tmp_path) -> dict:
    """Small tensors of the shapes the functions take (21 classes)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    n, c, d, h, w = 2, 21, 8, 8, 8
    return dict(
        scores=torch.rand(n, c, h, w).softmax(1),
        emb=F.normalize(torch.randn(n, d, h, w), dim=1),
        emb_flipped=F.normalize(torch.randn(n, d, h, w), dim=1),
        image_rgb=torch.randint(0, 256, (3, 24, 24), dtype=torch.uint8),
        probs=torch.rand(c, 24, 24).softmax(0),
        train_emb=F.normalize(torch.randn(n, d, h, w), dim=1),
        train_labels=torch.randint(0, c, (n, h, w)),
        query_protos=F.normalize(torch.randn(5, d), dim=1),
    )


@dataclass
class PythonCase:
    """How one python block runs, keyed by a substring unique to it."""

    why: str
    base: Optional[str] = None  # config the fragment is merged onto
    given: Optional[Callable] = None  # tmp_path -> names the block uses
    loss_step: bool = False
    check: Optional[Callable] = None  # (namespace or cfg) -> None


def check_spml_head(cfg: dict) -> None:
    """What the fragment keeps of the base head, and what it changes."""
    head = cfg['model']['decode_head']
    loss = head.get('loss_decode') or {}
    assert (head.get('norm_cfg') or {}).get('type') == 'SyncBN', head
    assert (head.get('in_channels'), head.get('num_classes')) == (2048, 21)
    assert loss.get('type') == 'CrossEntropyLoss', head
    assert loss.get('avg_non_ignore') is True, head
    assert cfg['model']['data_preprocessor']['size'] == (512, 512)
    assert cfg['model']['auxiliary_head'] is None


def check_loaded_model(ns: dict) -> None:
    assert ns['model'].dataset_meta['classes'][0] == 'background'
    assert not ns['model'].training


def check_inference(ns: dict) -> None:
    """The shapes the block's comment promises, for a 96 x 128 image."""
    assert tuple(ns['result']['predictions'].shape) == (96, 128)
    assert ns['result']['visualization'].shape == (96, 128, 3)


def check_refinement_outputs(ns: dict) -> None:
    assert ns['refined'].shape == (2, 21, 8, 8)
    assert ns['probs'].shape == (21, 24, 24)
    assert ns['scores'].shape == (5, 21)
    assert ns['protos'].shape[0] == ns['labels'].shape[0] > 0


PYTHON_CASES = {
    "type='SPMLASPPHead'": PythonCase(
        why='the fragment is written against the DeepLabV3 config of '
        '"Using the plugin from your own config"',
        base='mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512.py',
        loss_step=True,
        check=check_spml_head,
    ),
    "type='DemoScenesDataset'": PythonCase(
        why='pipeline=train_pipeline names the pipeline of the data config',
        given=given_train_pipeline,
    ),
    'init_model(': PythonCase(
        why='loads a config and a checkpoint by relative paths',
        given=given_checkpoint_layout,
        check=check_loaded_model,
    ),
    'MMSegInferencer(': PythonCase(
        why='CFG and CKPT come from the usage block before it',
        given=given_inferencer_inputs,
        check=check_inference,
    ),
    'knn_vote(': PythonCase(
        why='the calls show the functions on inputs made elsewhere',
        given=given_refinement_inputs,
        check=check_refinement_outputs,
    ),
}
# Blocks that are only compiled: {unique substring: reason}. Empty: every
# python block runs.
COMPILE_ONLY: Dict[str, str] = {}


def python_case(block: Block) -> PythonCase:
    keys = [k for k in PYTHON_CASES if k in block.text]
    assert len(keys) <= 1, f'{block.id}: matched by several cases {keys}'
    return PYTHON_CASES[keys[0]] if keys else PythonCase(why='as written')


def registries() -> dict:
    import mmseg.registry
    from mmengine.registry import Registry

    return {
        name: reg
        for name, reg in vars(mmseg.registry).items()
        if isinstance(reg, Registry)
    }


def unregistered_types(node, regs: dict, path: str = '') -> List[str]:
    """``type`` values of ``node`` that no MMSeg registry knows (the
    ``weak`` spec of ``DemoScenesDataset`` names a weak-label type)."""
    from mmseg_spml.datasets import WEAK_TYPES

    bad = []
    if isinstance(node, dict):
        kind = node.get('type')
        weak_spec = path.endswith('weak') and kind in WEAK_TYPES
        if (
            isinstance(kind, str)
            and not weak_spec
            and not any(r.get(kind) for r in regs.values())
        ):
            bad.append(f'{path or "<top>"}: {kind}')
        for key, value in node.items():
            bad += unregistered_types(value, regs, f'{path}.{key}'.lstrip('.'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            bad += unregistered_types(value, regs, f'{path}[{i}]')
    return bad


def assigned_names(text: str) -> set:
    """Names a block assigns at its top level."""
    import ast

    names = set()
    for node in ast.parse(text).body:
        targets = getattr(node, 'targets', None) or [
            getattr(node, 'target', None)
        ]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def build_config(cfg: dict, own: set, case: PythonCase, tmp_path) -> None:
    """Build what a config fragment defines: its model, also when merged
    onto a base, and the datasets, hooks and visualizer it sets itself
    (a base's VOC datasets need the data on disk)."""
    from mmengine.config import ConfigDict
    from mmseg.registry import DATASETS, HOOKS, MODELS, VISUALIZERS

    bad = unregistered_types(cfg, registries())
    assert not bad, f'types not registered in MMSeg: {bad}'
    cfg = ConfigDict(copy.deepcopy(cfg))  # attribute access, as MMSeg's
    model = cfg.get('model')
    if model and model.get('type'):
        built = MODELS.build(model)
        if case.loss_step:
            head = model.get('decode_head') or model
            losses = tiny_loss_step(built, head['num_classes'])
            assert any(k.startswith('decode.loss') for k in losses), losses
    elif model:  # parts of a model: build those that are
        for value in model.values():
            if isinstance(value, dict) and 'type' in value:
                MODELS.build(value)
    else:
        assert not case.loss_step, 'no model to step'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        if dataset and key in own:
            DATASETS.build(ConfigDict(dataset, lazy_init=True))
    for hook in cfg.get('custom_hooks') or []:
        HOOKS.build(hook)
    if cfg.get('visualizer'):
        VISUALIZERS.build(
            ConfigDict(
                cfg.visualizer,
                name=f'test_readme_blocks_{id(cfg)}',
                save_dir=str(tmp_path / 'vis'),
            )
        )


def run_python(block: Block, tmp_path, monkeypatch) -> None:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmseg_spml  # noqa: F401  (registers our components)

    code = compile(block.text, block.id, 'exec')  # at least this
    keys = [k for k in COMPILE_ONLY if k in block.text]
    if keys:
        pytest.skip(f'compiled only: {COMPILE_ONLY[keys[0]]}')
    case = python_case(block)
    monkeypatch.setenv('MMSEG_SPML_DATA', str(tmp_path / 'data'))
    monkeypatch.chdir(tmp_path)
    init_default_scope('mmseg')
    given = case.given(tmp_path) if case.given else {}
    is_config = 'dict(' in block.text or '_base_' in block.text
    if is_config and (case.base or '_base_' in block.text):
        text = block.text
        if case.base:
            assert '_base_' not in text, f'{block.id}: has its own _base_'
            text = f'_base_ = [{case.base!r}]\n' + text
        assert not given, 'names cannot be given to a config file'
        path = tmp_path / 'fragment.py'
        path.write_text(text)
        result = Config.fromfile(str(path)).to_dict()
    else:
        namespace = dict(given, __name__='__readme__')
        exec(code, namespace)
        result = {k: v for k, v in namespace.items() if not k.startswith('__')}
    if is_config:
        build_config(
            {k: v for k, v in result.items() if k not in given},
            assigned_names(block.text),
            case,
            tmp_path,
        )
    if case.check:
        case.check(result)


# --------------------------------------------------------------------- tests
def test_docs_have_blocks():
    assert 'README.md' in DOCS and len(DOCS) > 1, DOCS
    for doc in DOCS:
        assert any(b.doc == doc for b in BLOCKS), f'{doc}: no code block'


def test_case_keys_name_one_block():
    """A key of PYTHON_CASES or COMPILE_ONLY that no longer matches
    exactly one block is stale."""
    for key in list(PYTHON_CASES) + list(COMPILE_ONLY):
        assert block_with(key).lang == 'python', key


@pytest.mark.parametrize('block', BLOCKS, ids=[b.id for b in BLOCKS])
def test_block(block, tmp_path, monkeypatch):
    assert block.closed, f'{block.id}: the fence is never closed'
    if block.lang in SKIPPED_LANGUAGES:
        pytest.skip(f'```{block.lang}: {SKIPPED_LANGUAGES[block.lang]}')
    if block.lang in BASH_LANGUAGES:
        check_bash(block)
    elif block.lang == 'python':
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny tensors: threads only contend
        try:
            run_python(block, tmp_path, monkeypatch)
        finally:
            torch.set_num_threads(threads)
    elif block.lang in ('yaml', 'yml'):
        import yaml

        yaml.safe_load(block.text)
    else:
        raise AssertionError(
            f'{block.id}: no check for ```{block.lang} blocks: add one to '
            'tests/test_docs/test_readme_blocks.py or skip the language there'
        )
