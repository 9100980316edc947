# Copyright (c) mmseg-spml contributors. All rights reserved.
from .cam_classifier import CAMClassifier, image_tag_targets
from .spml_encoder_decoder import SPMLEncoderDecoder, unlabelled_as_void
from .spml_tta import SPMLTTAModel

__all__ = [
    'CAMClassifier',
    'SPMLEncoderDecoder',
    'SPMLTTAModel',
    'image_tag_targets',
    'unlabelled_as_void',
]
