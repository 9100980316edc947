# Copyright (c) mmseg-spml contributors. All rights reserved.
from .sync_bn import SPMLSyncBatchNorm, sync_batch_stats

__all__ = ['SPMLSyncBatchNorm', 'sync_batch_stats']
