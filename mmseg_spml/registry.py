# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The ``mmseg_spml`` registry scope: one child of each MMSeg registry.

Our components register in MMSeg's registries (``mmseg.registry``), so
configs with ``default_scope='mmseg'`` find them. A config that inherits
ours as ``mmseg_spml::...`` gets the scope ``mmseg_spml`` for those
parts, and MMEngine then looks for registries of that scope (importing
this module); these children are empty, import what their MMSeg parents
would import, and defer every name to them, so MMSeg's and our components
both resolve there.
"""

from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

#: Scope of the registries below.
SCOPE = 'mmseg_spml'


def _child(name: str) -> Registry:
    """A child of MMSeg's registry ``name`` that lazily imports what the
    parent would (MMSeg's modules) and our package."""
    parent = getattr(mmseg_registry, name)
    locations = list(getattr(parent, '_locations', [])) + ['mmseg_spml']
    return Registry(
        parent.name, parent=parent, scope=SCOPE, locations=locations
    )


RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
HOOKS = _child('HOOKS')
DATASETS = _child('DATASETS')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
TRANSFORMS = _child('TRANSFORMS')
MODELS = _child('MODELS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
METRICS = _child('METRICS')
EVALUATOR = _child('EVALUATOR')
TASK_UTILS = _child('TASK_UTILS')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
INFERENCERS = _child('INFERENCERS')
