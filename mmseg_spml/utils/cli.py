# Copyright (c) mmseg-spml contributors. All rights reserved.
"""Command-line helpers shared by the tools."""

import argparse


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
