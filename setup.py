# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Install with `make setup` (tools/setup_env.sh): it builds mmcv first."""

import os
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    with open(osp.join(HERE, 'mmseg_spml', 'version.py')) as f:
        return re.search(r"__version__ = '(.+)'", f.read()).group(1)


def parse_requirements(name: str) -> list:
    """Requirement lines of requirements/<name>, without comments."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


def mim_files() -> list:
    """The files under mmseg_spml/.mim (through its links), relative to
    the package."""
    package = osp.join(HERE, 'mmseg_spml')
    files = []
    for folder, _, names in os.walk(
        osp.join(package, '.mim'), followlinks=True
    ):
        if '__pycache__' in folder:
            continue
        files += [
            osp.relpath(osp.join(folder, n), package)
            for n in names
            if n.endswith(('.py', '.sh', '.yaml', '.yml', '.md'))
        ]
    return sorted(files)


MIM_FILES = mim_files()

setup(
    name='mmseg_spml',
    version=get_version(),
    description='Weakly supervised semantic segmentation (SPML, PMM) as an '
    'MMSegmentation 1.x plugin',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    # mmseg_spml/.mim links to configs/, tools/ and model-index.yml; a wheel
    # holds copies, which `mmseg_spml::` config bases and `mim` read.
    package_data={'mmseg_spml': MIM_FILES},
    python_requires='>=3.8',
    install_requires=parse_requirements('torch.txt')
    + ['mmcv>=2.0.0rc4,<2.2.0']
    + parse_requirements('runtime.txt'),
    extras_require=dict(
        tests=parse_requirements('tests.txt'),
        crf=parse_requirements('optional.txt'),
        # MMEngine's TensorboardVisBackend (visualizer vis_backends).
        tensorboard=['tensorboard'],
    ),
    zip_safe=False,
)
