# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Let configs inherit ours as ``mmseg_spml::spml/...``, as they inherit
MMSeg's as ``mmseg::...``.

MMEngine resolves ``PACKAGE::PATH`` bases through a fixed table of
OpenMMLab packages (``MODULE2PACKAGE``) and then reads
``<installed package>/.mim/configs/PATH``. Our package ships that folder
(``mmseg_spml/.mim/``: links to the repository's ``configs/``, ``tools/``
and ``model-index.yml`` in a checkout, copies in a wheel);
:func:`register_package_configs`, called when ``mmseg_spml`` is imported,
adds the package to the table. MMEngine 0.10.7 also finds a package's
folder from its distribution's location, which for an editable install
(``pip install -e``, as ``make setup`` does) is ``site-packages`` and not
the checkout; there the folder of the imported module is used instead.
"""

import importlib.util
import os.path as osp

import mmengine.config.config as mmengine_config
from mmengine.config.utils import MODULE2PACKAGE

#: The module (and distribution) name of this package.
PACKAGE = 'mmseg_spml'


def package_folder() -> str:
    """The folder of the imported ``mmseg_spml`` package."""
    return osp.dirname(importlib.util.find_spec(PACKAGE).origin)


def _installed_path(get_installed_path):
    """MMEngine's ``get_installed_path``, with this package's folder where
    an editable install puts it elsewhere."""

    def installed_path(package: str) -> str:
        path = get_installed_path(package)
        if package == PACKAGE and not osp.isdir(osp.join(path, '.mim')):
            return package_folder()
        return path

    installed_path.wrapped = get_installed_path
    return installed_path


def register_package_configs() -> None:
    """Make ``mmseg_spml::`` config paths resolvable by MMEngine (once)."""
    MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    current = mmengine_config.get_installed_path
    if not hasattr(current, 'wrapped'):
        mmengine_config.get_installed_path = _installed_path(current)
