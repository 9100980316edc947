# Copyright (c) mmseg-spml contributors. All rights reserved.
__version__ = '0.1.0'
