# Copyright (c) mmseg-spml contributors. All rights reserved.
from .cyclic_pseudo_mask import CyclicPseudoMaskHook

__all__ = ['CyclicPseudoMaskHook']
