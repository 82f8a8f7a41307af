"""The pinyin keyboard's engine: segmentation, candidates, choosing, and the table build."""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import Style, lazy_pinyin, pinyin

from kiosk.ime import MAX_INPUT, PAGE_SIZE, Candidate, Lexicon, PinyinInput, build_table, default_lexicon

GOV = {"wufangchanzhengming": "无房产证明", "dibao": "低保", "yibao": "医保", "yanglao": "养老",
       "hukou": "户口", "canjizheng": "残疾证", "shenfenzheng": "身份证"}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return default_lexicon()


def covers(latin: str, syllables: tuple[str, ...]) -> bool:
    """Can ``latin`` be cut into non-empty beginnings of ``syllables`` in order (``'`` between)?"""
    if not syllables:
        return latin.strip("'") == ""
    latin = latin.lstrip("'")
    return any(syllables[0].startswith(latin[:k]) and covers(latin[k:], syllables[1:])
               for k in range(1, len(latin) + 1) if "'" not in latin[:k])


@pytest.mark.parametrize("latin, word", GOV.items())
def test_government_words_on_the_first_page(lexicon, latin, word):
    assert word in [c.text for c in lexicon.lookup(latin)[:PAGE_SIZE]]


def test_initials_find_the_word(lexicon):
    assert lexicon.lookup("wfczm")[0].text == "无房产证明"
    assert "身份证" in [c.text for c in lexicon.lookup("sfz")[:PAGE_SIZE]]
    assert "无房产" in [c.text for c in lexicon.lookup("wfchan")[:PAGE_SIZE]]  # initials and full mixed


@pytest.mark.parametrize("latin, pieces", [
    ("wufangchan", ("wu", "fang", "chan")), ("wfc", ("w", "f", "c")), ("xi'an", ("xi", "an")),
    ("zhongguo", ("zhong", "guo")), ("zhon", ("zhon",)), ("iu", ("i", "u")), ("", ()),
])
def test_segment(lexicon, latin, pieces):
    assert lexicon.segment(latin) == pieces


def test_full_syllables_rank_before_shortened_ones(lexicon):
    """In "woyao", 握有 (wo·y[ou]) shortens a syllable typed in full: 我 comes first."""
    found = [c.text for c in lexicon.lookup("woyaobanli")]
    assert found[0] == "我" and found.index("我") < found.index("握有")


def test_longest_match_first_and_each_word_once(lexicon):
    found = lexicon.lookup("zhongguoren")
    assert found[0] == Candidate("中国", 8, ("zhong", "guo"))
    assert len({c.text for c in found}) == len(found)


def test_separator_splits_syllables(lexicon):
    assert lexicon.lookup("xi'an")[0].text == "西安"
    found = lexicon.lookup("xi'an")
    assert all(c.pinyin[0] == "xi" for c in found if c.consumed > 1)  # never 先 (xian) or 下 (xia)


def test_choose_keeps_the_rest():
    ime = PinyinInput()
    assert ime.type("shenfenzhenghaoma")
    first = ime.candidates()[0]
    assert first.text == "身份证"
    assert ime.choose(0) is None
    assert (ime.committed, ime.latin) == ("身份证", "haoma")
    index = [c.text for c in ime.candidates()].index("号码")
    assert ime.choose(index) == "身份证号码"
    assert (ime.committed, ime.latin, ime.candidates()) == ("", "", [])


def test_typing_backspace_and_refusals():
    ime = PinyinInput()
    assert not ime.type("ni3") and not ime.type("你") and ime.latin == ""
    assert ime.type("NI") and ime.latin == "ni"
    assert not ime.type("a" * MAX_INPUT)
    ime.choose(0)
    assert ime.latin == "" and ime.committed == ""  # whole input converted: handed out
    ime.type("nihao")
    ime.choose([c.text for c in ime.candidates()].index("你"))
    assert (ime.committed, ime.latin) == ("你", "hao")
    ime.backspace()
    ime.backspace()
    ime.backspace()
    ime.backspace()
    assert (ime.committed, ime.latin) == ("", "")
    ime.type("hao")
    ime.clear()
    assert (ime.committed, ime.latin, ime.segments()) == ("", "", ())


LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", max_size=MAX_INPUT)


@settings(max_examples=300, deadline=None)
@given(LETTERS)
def test_candidates_follow_the_input(latin):
    lexicon = default_lexicon()
    found = lexicon.lookup(latin)
    assert "".join(lexicon.segment(latin)) == latin.replace("'", "")
    for cand in found:
        assert 0 < cand.consumed <= len(latin)
        assert len(cand.text) == len(cand.pinyin)
        assert covers(latin[:cand.consumed], cand.pinyin), (latin, cand)
        if len(cand.text) == 1:
            assert cand.pinyin[0] in pinyin(cand.text, style=Style.NORMAL, heteronym=True)[0]
        else:
            assert tuple(lazy_pinyin(cand.text, style=Style.NORMAL)) == cand.pinyin


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(LETTERS.map(lambda s: s[:3]), st.sampled_from(["<", "choose", "clear"])), max_size=30))
def test_keyboard_state_stays_consistent(keys):
    ime = PinyinInput()
    for key in keys:
        if key == "<":
            ime.backspace()
        elif key == "clear":
            ime.clear()
        elif key == "choose":
            if ime.candidates():
                before = ime.latin
                chosen = ime.candidates()[0]
                text = ime.choose(0)
                assert ime.latin == before[chosen.consumed:].lstrip("'")
                assert (text is None) == bool(ime.latin)
        else:
            ime.type(key)
        assert len(ime.latin) <= MAX_INPUT
        assert all(covers(ime.latin[:c.consumed], c.pinyin) for c in ime.candidates(PAGE_SIZE))


def test_build_table_from_a_small_dictionary(tmp_path: Path):
    source = tmp_path / "dict.txt"
    source.write_text("低 500 a\n保 400 v\n底 300 n\n低保 40 v\n地堡 60 n\nabc 9 x\n乱码\n行 100 n\n银行 900 n\n",
                      encoding="utf-8")
    extra = tmp_path / "extra.txt"
    extra.write_text("# comment\n医保 7000\n残疾证\n", encoding="utf-8")
    out = tmp_path / "table.tsv.gz"
    count = build_table(source, out, max_words=2, extra=extra, extra_freq=5000)
    lines = gzip.open(out, "rt", encoding="utf-8").read().splitlines()
    groups = {line.split("\t")[0]: line.split("\t")[1:] for line in lines}
    assert groups["db"] == ["地堡", "di bao", "60"]  # 低保 is not among the 2 most frequent words
    assert groups["yb"] == ["医保", "yi bao", "7000"] and groups["cjz"] == ["残疾证", "can ji zheng", "5000"]
    assert groups["yh"] == ["银行", "yin hang", "900"]
    assert "行" in groups["x"][0] and "行" in groups["h"][0]  # every reading of a character
    assert "abc" not in "".join(line for line in lines)
    assert count == sum(len(v[0]) // len(k) for k, v in groups.items())
    small = Lexicon.load(out)
    assert [c.text for c in small.lookup("yinhang")] == ["银行"]
    assert [c.text for c in small.lookup("hang")] == ["行"]
    assert small.lookup("") == [] and small.lookup("'''") == []


def test_the_table_loads_at_the_first_keystroke_not_at_start():
    """A keyboard on a screen costs nothing until someone types (the table is ~7 MB in memory)."""
    script = ("from kiosk.ime import PinyinInput, default_lexicon\n"
              "keyboard = PinyinInput()\n"
              "keyboard.clear(); keyboard.candidates()\n"
              "before = default_lexicon.cache_info().currsize\n"
              "keyboard.type('wfc')\n"
              "word = keyboard.candidates(1)[0].text\n"
              "print(before, default_lexicon.cache_info().currsize, word)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "1", "无房产"]
