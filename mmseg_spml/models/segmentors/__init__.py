# Copyright (c) mmseg-spml contributors. All rights reserved.
from .cam_classifier import CAMClassifier, image_tag_targets
from .spml_encoder_decoder import SPMLEncoderDecoder, unlabelled_as_void

__all__ = [
    'CAMClassifier',
    'SPMLEncoderDecoder',
    'image_tag_targets',
    'unlabelled_as_void',
]
