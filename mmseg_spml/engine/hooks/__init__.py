# Copyright (c) mmseg-spml contributors. All rights reserved.
from .cyclic_pseudo_mask import CyclicPseudoMaskHook
from .spml_visualization_hook import SPMLVisualizationHook

__all__ = ['CyclicPseudoMaskHook', 'SPMLVisualizationHook']
