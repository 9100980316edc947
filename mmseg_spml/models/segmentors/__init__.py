# Copyright (c) mmseg-spml contributors. All rights reserved.
from .cam_classifier import (
    IRN_CAM_SCALES,
    CAMClassifier,
    cam_test_settings,
    image_tag_targets,
)
from .spml_encoder_decoder import SPMLEncoderDecoder, unlabelled_as_void
from .spml_tta import SPMLTTAModel

__all__ = [
    'IRN_CAM_SCALES',
    'CAMClassifier',
    'cam_test_settings',
    'SPMLEncoderDecoder',
    'SPMLTTAModel',
    'image_tag_targets',
    'unlabelled_as_void',
]
