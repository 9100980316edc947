# Copyright (c) mmseg-spml contributors. All rights reserved.
"""The label encoding shared by every dataset, converter, transform and loss.

Two kinds of "unknown" are kept apart:

* :data:`IGNORE_INDEX` (255): void and padding. The pixel takes part in
  nothing: not in clustering, not in any loss, not in evaluation.
* :data:`UNLABELLED` (254): a real image pixel that the weak annotation does
  not label (off the scribble, outside the points, inside a box). It still
  takes part in clustering, low-level similarity and co-occurrence.

Class ids are ``0 .. num_classes - 1`` with ``num_classes <= 254``.

This module imports nothing: every package imports it downward.
:mod:`mmseg_spml.datasets` re-exports its names.
"""

#: Void / padding: excluded from everything.
IGNORE_INDEX = 255
#: Real pixel without a weak label.
UNLABELLED = 254
#: Largest number of classes the encoding leaves room for.
MAX_CLASSES = UNLABELLED
#: Padding value of superpixel maps (their ids may take any value >= 0).
SUPERPIXEL_PAD = -1
