# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Command-line helpers shared by the tools."""

import argparse

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


def doc_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose help is a tool's module docstring ``doc``:
    its first line as the description, and everything after the blank
    line that follows it (usage notes, examples) verbatim as the epilog.

    Args:
        doc (str): The tool's ``__doc__``; leading blank lines are ignored.

    Returns:
        argparse.ArgumentParser: A parser without arguments yet.
    """
    lines = doc.strip('\n').splitlines()
    return argparse.ArgumentParser(
        description=lines[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(lines[2:]),
    )


def trained_model_parser(
    doc: str, config_help: str, out_help: str
) -> argparse.ArgumentParser:
    """The command line every offline tool over a trained model shares:
    ``CONFIG CHECKPOINT --out OUT [--device D] [--cfg-options ...]``, with
    the description and examples of the tool's module docstring ``doc``.
    The device defaults to CUDA when available."""
    parser = doc_parser(doc)
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help='its trained weights')
    parser.add_argument('--out', required=True, help=out_help)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value)',
    )
    return parser


def load_tool_config(args: argparse.Namespace) -> Config:
    """``args.config`` with ``args.cfg_options`` merged, its default scope
    initialised."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg
