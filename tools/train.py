# Copyright (c) OpenMMLab. All rights reserved.
# MMSegmentation 1.2.2's tools/train.py with the mmseg-spml plugin imported
# and the config adapted to CPU-only machines (gloo, no CUDA device ids).
import argparse
import logging
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

import mmseg_spml  # noqa: F401  (registers components, checkpoint allow-list)
from mmseg_spml.utils import adapt_cfg_to_device, close_dist, init_cpu_dist

AMP_OPTIM_WRAPPERS = ('AmpOptimWrapper', 'SPMLAmpOptimWrapper')


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (float16 with loss '
        'scaling on GPUs, bfloat16 on CPU)',
    )
    parser.add_argument(
        '--amp-dtype',
        choices=['float16', 'bfloat16'],
        default=None,
        help='autocast dtype of --amp; default: float16 on GPUs, bfloat16 '
        'on CPU (the only one there)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # When using PyTorch version >= 2.0.0, the `torch.distributed.launch`
    # will pass the `--local-rank` parameter to `tools/train.py` instead
    # of `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if args.amp_dtype is not None and not args.amp:
        parser.error('--amp-dtype needs --amp')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)

    return args


def main():
    args = parse_args()

    # load config
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    adapt_cfg_to_device(cfg)

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        # update configs according to CLI args if args.work_dir is not None
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        # use config filename as default work_dir if cfg.work_dir is None
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0]
        )

    # enable automatic-mixed-precision training; SPMLAmpOptimWrapper is
    # MMEngine's AmpOptimWrapper that also runs on CPU (bfloat16)
    if args.amp is True:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper in AMP_OPTIM_WRAPPERS:
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING,
            )
        elif optim_wrapper != 'OptimWrapper':
            raise SystemExit(
                '--amp is only supported when the optimizer wrapper type is '
                f'OptimWrapper, but the config has {optim_wrapper}'
            )
        else:
            cfg.optim_wrapper.type = 'SPMLAmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
        if args.amp_dtype is not None:
            cfg.optim_wrapper.dtype = args.amp_dtype

    # resume training
    cfg.resume = args.resume

    init_cpu_dist(cfg)
    # build the runner from config
    if 'runner_type' not in cfg:
        # build the default runner
        runner = Runner.from_cfg(cfg)
    else:
        # build customized runner from the registry
        # if 'runner_type' is set in the cfg
        runner = RUNNERS.build(cfg)

    # start training
    runner.train()
    del runner  # its DDP model and dataloaders, before the group goes
    close_dist()


if __name__ == '__main__':
    main()
