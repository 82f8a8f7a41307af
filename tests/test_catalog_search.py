"""Search by characters, full pinyin and initials; ranking; keystroke-by-keystroke typing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog import BUNDLED, CatalogSearch, load_catalog
from kiosk.catalog.parse import parse_catalog
from kiosk.catalog.search import normalize, syllables
from tests._catalog_fixtures import doc

CATALOG = load_catalog(BUNDLED)


@pytest.fixture()
def search():
    return CatalogSearch(CATALOG)


def names(items):
    return [i.name for i in items]


@pytest.mark.parametrize("query", ["wfc", "WFC", "wufang", "wufangchanzhengming", "wfczm", "wufangc", "无房", "无房产证明",
                                   "ｗｆｃ", "wu fang"])
def test_no_house_certificate_is_found_first(search, query):
    assert names(search.search(query))[0] == "无房产证明"


def test_loose_mixes_of_pinyin_and_initials_match_but_rank_last(search):
    assert "无房产证明" in names(search.search("wfchan"))
    # dibao: exact alias 低保 of 最低生活保障 beats the loose di(an)·bao of 居民用电报装.
    found = names(search.search("dibao"))
    assert found.index("最低生活保障申请") < found.index("居民用电报装")


def test_characters_search_names_and_aliases(search):
    assert names(search.search("低保")) == ["最低生活保障申请"]
    assert "社会保障卡申领" in names(search.search("社保卡"))
    assert "出生登记（新生儿落户）" in names(search.search("落户"))


def test_ranking_exact_then_prefix_then_inside(search):
    found = names(search.search("户口迁移"))
    assert found[0] == "户口迁移"
    found = names(search.search("户口"))
    assert found[0] == "户口迁移"                       # name starts with 户口
    assert found.index("死亡人员户口注销") > 0           # 户口 inside the name
    found = names(search.search("jiuye"))
    assert found[:1] == ["就业登记"]                    # shorter name among prefixes


def test_initials_of_an_alias(search):
    assert names(search.search("gljt"))[0] == "高龄老人津贴申领"
    assert names(search.search("sfz"))[0] == "居民身份证换领、补领"


def test_window_and_department_match_last(search):
    found = search.search("民政")
    assert found and all(i.window == "民政" or "民政" in i.department or "民政" in i.name for i in found)


def test_digits_and_empty_and_nonsense(search):
    assert names(search.search("65"))[0].startswith("65岁")
    assert search.search("") == () and search.search("   ") == ()
    assert search.search("zzzzqx") == ()
    assert search.search("火星") == ()


def test_limit(search):
    assert len(search.search("d", limit=3)) == 3


def test_pinyin_helpers():
    assert syllables("无房产证明") == ("wu", "fang", "chan", "zheng", "ming")
    assert syllables("65岁") == ("65", "sui")
    assert normalize(" Wu’Fang ") == "wufang"


QUERIES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz无房产证明低保户口社会65 ", min_size=1, max_size=10)


@settings(max_examples=150, deadline=None)
@given(QUERIES, QUERIES)
def test_typing_keystroke_by_keystroke_equals_a_fresh_search(first, then):
    """The narrowing cache must never change a result: every prefix typed in turn, then a new query."""
    typed = CatalogSearch(CATALOG)
    for n in range(1, len(first) + 1):
        assert typed.search(first[:n]) == fresh(first[:n])
    assert typed.search(then) == fresh(then)


FRESH = CatalogSearch(CATALOG)


def fresh(query):
    FRESH.search("")   # clears the narrowing cache
    return FRESH.search(query)


def test_index_follows_its_catalog():
    small = parse_catalog(doc(), "mem")
    assert names(CatalogSearch(small).search("wfc")) == ["无房产证明"]
    assert CatalogSearch(small).search("dibao") == ()
