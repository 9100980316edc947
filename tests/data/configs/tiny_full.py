# The tiny full-supervision config on the images of tiny_spml.py, for the
# demo driver's test (its stage 2 retrains this config on pseudo labels).
_base_ = ['./tiny_demo.py']
generator = dict(num_train=4, num_val=2, size=32, seed=0)
train_dataloader = dict(dataset=dict(generator=generator))
val_dataloader = dict(dataset=dict(generator=generator))
test_dataloader = val_dataloader
