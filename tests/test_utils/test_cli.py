# Copyright (c) mmseg-spml contributors. All rights reserved.
import pytest

from mmseg_spml.utils.cli import doc_parser

DOC = """Do one thing well.

Details that keep
  their layout.

Example:
    python tools/x.py IN --out OUT
"""


@pytest.mark.parametrize('doc', [DOC, '\n' + DOC])
def test_description_and_verbatim_epilog_from_the_docstring(doc):
    parser = doc_parser(doc)
    parser.add_argument('--out')
    help_text = parser.format_help()
    assert parser.description == 'Do one thing well.'
    assert parser.epilog.startswith('Details that keep\n  their layout.')
    assert '    python tools/x.py IN --out OUT' in help_text  # not re-wrapped
    assert parser.parse_args(['--out', 'o']).out == 'o'
