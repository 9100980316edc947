# Copyright (c) mmseg-spml contributors. All rights reserved.
from .spml_encoder_decoder import SPMLEncoderDecoder, unlabelled_as_void

__all__ = ['SPMLEncoderDecoder', 'unlabelled_as_void']
