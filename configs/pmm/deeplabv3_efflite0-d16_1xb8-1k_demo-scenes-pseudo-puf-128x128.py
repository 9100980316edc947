# PMM's Pretended Under-Fitting on CAM pseudo masks of the demo data: the
# pseudo-CE config with PUFLoss (clamp, beta = k = 0.5: PMM's VOC values) on
# the decode and the auxiliary head, as PMM applies it to both.
_base_ = ['./deeplabv3_efflite0-d16_1xb8-1k_demo-scenes-pseudo-ce-128x128.py']
puf = dict(type='PUFLoss', mode='clamp', beta=0.5, k=0.5)
model = dict(
    decode_head=dict(loss_decode=dict(puf, _delete_=True, loss_weight=1.0)),
    auxiliary_head=dict(loss_decode=dict(puf, _delete_=True, loss_weight=0.4)),
)
