# Plain cross-entropy on CAM pseudo masks of the demo data: the control of
# the PUF config next to it. The baseline's model and schedule; the training
# target is a folder of pseudo-mask PNGs (tools/make_pseudo_masks.py,
# --unlabelled-as background), set with
#   --cfg-options train_dataloader.dataset.data_prefix.seg_map_path=DIR
# (tools/run_pmm_demo.py does). Validation uses the real masks of val.
_base_ = ['../baselines/deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-128x128.py']
train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='pseudo_masks_cvs_ppmg'
        )
    )
)
