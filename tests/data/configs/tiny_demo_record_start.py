# tiny_demo.py, recording the iteration and weights it starts (or resumes) from.
_base_ = ['./tiny_demo.py']
custom_imports = dict(imports=['mmseg_spml', 'tests.helpers.hooks'])
custom_hooks = [dict(type='RecordStartHook')]
