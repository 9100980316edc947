# tiny_demo.py, SIGKILLed during iteration 5 (after the iteration-4 checkpoint).
_base_ = ['./tiny_demo.py']
custom_imports = dict(imports=['mmseg_spml', 'tests.helpers.hooks'])
custom_hooks = [dict(type='KillAtIterHook', iteration=5)]
