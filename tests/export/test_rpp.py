"""The RPP reader and writer: quoting as REAPER does it, blocks, round trips."""

from __future__ import annotations

import pytest

from mixassist.errors import ExportError
from mixassist.export.rpp import RppNode, dumps, parse_rpp, quote, split_args


def test_quotes_are_chosen_to_fit_the_text():
    assert quote("drums") == "drums"
    assert quote("") == '""'
    assert quote("chorus 1") == '"chorus 1"'
    assert quote('say "hi"') == "'say \"hi\"'"
    assert quote("""it's "x\"""") == """`it's "x"`"""
    assert quote("a'b\"c`d") == "`a'b\"c'd`"  # all three: REAPER swaps the backtick


def test_split_args_unquotes_every_kind_of_quote():
    assert split_args('NAME "Lead vox" 1') == ["NAME", "Lead vox", "1"]
    assert split_args("NAME 'a \"b\"'") == ["NAME", 'a "b"']
    assert split_args("NAME `it's`") == ["NAME", "it's"]
    assert split_args('AUXRECV 0 0 1 0 0 0 0 0 0 -1:U 0 -1 ""')[-1] == ""


def test_blocks_lines_and_base64_round_trip():
    root = RppNode("REAPER_PROJECT", ["0.1"], block=True)
    track = root.add("TRACK", block=True)
    track.add("NAME", "it's \"odd\"")
    track.add("VOLPAN", 0.5, -0.25, -1, -1, 1)
    vst = track.add("VST", "VST: ReaEQ (Cockos)", "reaeq.dll", block=True)
    vst.children.append(RppNode("cWVlcu5e7f4CAAAA"))
    back = parse_rpp(dumps(root))
    assert back == root
    assert back.find("TRACK").value("VOLPAN", 1) == "-0.25"
    assert [n.name for n in back.walk("VST")] == ["VST"]


def test_numbers_are_plain_decimals():
    node = RppNode("X", block=True)
    node.add("PT", 1e-7, 2.0, -0.0)
    assert dumps(node).splitlines()[1].strip() == "PT 0.0000001 2 0"


@pytest.mark.parametrize("text, problem", [
    ("<A\n", "not closed"), ("<A\n>\n>\n", "closes no block"), ("", "no block"),
    ("<A\n>\n<B\n>\n", "second top-level")])
def test_bad_text_is_a_clear_error(text, problem):
    with pytest.raises(ExportError, match=problem):
        parse_rpp(text)
