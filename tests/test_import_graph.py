# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The package's import graph goes downward only, and no function hides an
import of the package (the way a cycle is usually dodged).

The subpackages sit on floors; a module may import its own subpackage and
the floors below, never a floor above or beside it (read statically with
``ast``, so a lazy import inside a function counts too)."""

import ast
import os
import os.path as osp
from typing import Iterator, List, Tuple

from tests.helpers.tools import ROOT

PACKAGE = osp.join(ROOT, 'mmseg_spml')
#: Floor of each top-level module of mmseg_spml (imports go to lower ones).
FLOORS = {
    'label_encoding': 0,
    'version': 0,
    'registry': 1,
    'utils': 1,
    'clustering': 2,
    'datasets': 2,
    'refinement': 3,
    'pseudo_masks': 4,
    'models': 4,
    'engine': 5,
    'apis': 6,
    'experiments': 7,
}


def _modules() -> Iterator[Tuple[str, str, bool]]:
    """(path, dotted module name, is a package ``__init__``)."""
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            dotted = osp.relpath(path, ROOT)[:-3].replace(os.sep, '.')
            is_init = name == '__init__.py'
            if is_init:
                dotted = dotted[: -len('.__init__')]
            yield path, dotted, is_init


def _imported(node: ast.AST, module: str, is_init: bool) -> List[str]:
    """The absolute names an import statement imports."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = module.split('.') if is_init else module.split('.')[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        return ['.'.join(base + ([node.module] if node.module else []))]
    return [node.module or '']


def _top(name: str) -> str:
    """The top-level module of mmseg_spml a dotted name is in ('' for the
    package itself)."""
    parts = name.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_every_top_level_module_has_a_floor():
    tops = {_top(m) for _, m, _ in _modules()} - {''}
    assert tops == set(FLOORS), 'give new subpackages a floor in FLOORS'


def test_imports_go_down_only():
    upward = []
    for path, module, is_init in _modules():
        tree = ast.parse(open(path).read())
        src = _top(module)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(node, module, is_init):
                dst = _top(name)
                if not name.startswith('mmseg_spml') or src in ('', dst):
                    continue
                if dst == '' or FLOORS[dst] >= FLOORS[src]:
                    upward.append(f'{module} imports {name}')
    assert not upward, '\n'.join(upward)


def test_no_function_hides_an_import_of_the_package():
    hidden = []
    for path, module, is_init in _modules():
        tree = ast.parse(open(path).read())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                    name.startswith('mmseg_spml')
                    for name in _imported(node, module, is_init)
                ):
                    hidden.append(f'{module}.{fn.name}')
    assert not hidden, hidden
