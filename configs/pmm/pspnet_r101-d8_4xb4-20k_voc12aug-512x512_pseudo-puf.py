# PMM round 1 on VOC 2012 train_aug: PSPNet-R101 trained on the CVS+PPMG
# pseudo masks with PUF (clamp, beta = k = 0.5, decode and auxiliary head),
# 20k iterations, SGD lr 0.005 poly (PMM's VOC settings, pmm_method.md
# sections 5-6; PMM uses 8 GPUs x 2 images, MMSeg's config 4 x 4).
# Make the masks: tools/make_cams.py, then
#   tools/make_pseudo_masks.py CAMS --method cvs+ppmg --out \
#       data/VOCdevkit/VOC2012/pseudo_cvs_ppmg
_base_ = 'mmseg::pspnet/pspnet_r101-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['mmseg_spml'], allow_failed_imports=False)
pseudo_dir = 'pseudo_cvs_ppmg'
puf = dict(type='PUFLoss', mode='clamp', beta=0.5, k=0.5)
model = dict(
    decode_head=dict(loss_decode=dict(puf, _delete_=True, loss_weight=1.0)),
    auxiliary_head=dict(loss_decode=dict(puf, _delete_=True, loss_weight=0.4)),
)
# train_aug images with the pseudo masks as targets (one dataset, not
# MMSeg's VOC + SBD concatenation).
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PascalVOCDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages', seg_map_path=pseudo_dir),
        ann_file='ImageSets/Segmentation/trainaug.txt',
        pipeline={{_base_.train_pipeline}},
    )
)
optim_wrapper = dict(optimizer=dict(lr=0.005))
