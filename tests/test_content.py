"""The articles file: loading, validation of every key, the related-guides mapping, the bundled data."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.catalog.loader import BUNDLED as CATALOG, load_catalog
from kiosk.catalog.modules import MODULES
from kiosk.content import BUNDLED, Content, ContentError, load_content

CODES = {item.code.basic for item in load_catalog(CATALOG).items}
GOOD = '''
[related]
legal_aid = ["0500901000", "20-00901-000"]

[[article]]
kind = "legal_aid"
title = "法律顾问驻村"
published = 2026-01-15
source = "湖光镇司法所"
body = """第一段。

第二段。"""

[[article]]
kind = "legal_aid"
title = "较新的一篇"
published = 2026-03-01T09:30:00
body = "正文"
'''


def load(tmp_path: Path, text: str, codes=CODES) -> Content:
    path = tmp_path / "articles.toml"
    path.write_text(text, encoding="utf-8")
    return load_content(path, codes)


def test_a_good_file(tmp_path):
    content = load(tmp_path, GOOD)
    newest, older = content.of_kind("legal_aid")
    assert (newest.title, newest.published, newest.source) == ("较新的一篇", date(2026, 3, 1), "")
    assert older.paragraphs == ("第一段。", "第二段。")
    assert content.related_to("legal_aid") == ("0500901000", "2000901000")
    assert content.related_to("news") == () and content.of_kind("news") == ()


@pytest.mark.parametrize("text, names", [
    ('[[article]]\nkind = "nonsense"\ntitle = "t"\npublished = 2026-01-01\nbody = "b"', "'nonsense' is not a module id"),
    ('[[article]]\nkind = "news"\ntitle = "t"\npublished = "2026-01-01"\nbody = "b"', "'published' must be a date"),
    ('[[article]]\nkind = "news"\ntitle = "t"\npublished = 12:00:00\nbody = "b"', "'published' must be a date"),
    ('[[article]]\nkind = "news"\ntitle = " "\npublished = 2026-01-01\nbody = "b"', "'title' must be non-empty"),
    ('[[article]]\nkind = "news"\ntitle = "t"\npublished = 2026-01-01', "'body' must be non-empty"),
    ('[[article]]\nkind = "news"\ntitle = "t"\npublished = 2026-01-01\nbody = "b"\nsource = 3', "'source' must be text"),
    ('[[article]]\nkind = "news"\ntitle = "t"\npublished = 2026-01-01\nbody = "b"\nauthor = "x"', "unknown keys author"),
    ('article = 3', "'article' must be an array"),
    ('article = [1]', "article 1: must be a table"),
    ('[notices]\nx = 1', "unknown tables notices"),
    ('related = 3', "'related' must be a table"),
    ('[related]\nfarm_stuff = ["0500901000"]', "related.farm_stuff: 'farm_stuff' is not a module id"),
    ('[related]\nlegal_aid = "0500901000"', "related.legal_aid: must be a list"),
    ('[related]\nlegal_aid = ["05009"]', "related.legal_aid: '05009' is not an item code"),
    ('[related]\nlegal_aid = ["2099999000"]', "related.legal_aid: item 2099999000 is not in the catalog"),
    ('[[article]\nkind = ', "articles.toml"),
])
def test_a_bad_file_is_refused_naming_what_is_wrong(tmp_path, text, names):
    with pytest.raises(ContentError) as caught:
        load(tmp_path, text)
    assert names in str(caught.value)


def test_codes_are_checked_only_against_a_given_catalog(tmp_path):
    text = '[related]\nlegal_aid = ["2099999000"]'
    assert load(tmp_path, text, codes=None).related_to("legal_aid") == ("2099999000",)


def test_a_missing_or_undecodable_file(tmp_path):
    with pytest.raises(ContentError, match="missing.toml"):
        load_content(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes("title = '\xe9'".encode("latin-1"))
    with pytest.raises(ContentError):
        load_content(tmp_path / "latin1.toml")


# -- malformed files: ContentError or Content, never anything else ----------------------
FRAGMENTS = st.sampled_from([
    "[[article]]\n", "[related]\n", "[other]\n", 'kind = "news"\n', 'kind = "guides"\n', "kind = 3\n",
    'title = "标题"\n', 'title = ""\n', "published = 2026-11-10\n", "published = 2026-11-10T08:00:00Z\n",
    "published = 08:00:00\n", 'published = "昨天"\n', 'body = """正文\n第二段"""\n', "body = []\n",
    'source = "村委会"\n', "source = 1.5\n", 'legal_aid = ["0500901000"]\n', 'news = ["abc"]\n',
    "news = [1, 2]\n", 'x = "y"\n', "article = {}\n", "related = []\n", "= \n", '"\n', "[[\n",
])
TOMLISH = st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(TOMLISH)
def test_malformed_files_are_refused_cleanly(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "articles.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            content = load_content(path, CODES)
        except ContentError:
            return
    assert isinstance(content, Content)
    for article in content.articles:
        assert article.title.strip() and article.body.strip() and isinstance(article.published, date)


# -- the bundled data --------------------------------------------------------------------
def test_every_module_page_has_at_least_two_articles():
    content = load_content(BUNDLED, CODES)
    thin = [m.id for m in MODULES if m.id != "guides" and len(content.of_kind(m.id)) < 2]
    assert not thin, f"modules with fewer than 2 articles: {thin}"


def test_bundled_articles_are_the_village_of_2026():
    content = load_content(BUNDLED, CODES)
    assert all(a.published.year == 2026 and a.source for a in content.articles)
    titles = [a.title for a in content.articles]
    assert len(titles) == len(set(titles))


def test_bundled_related_guides_exist_and_most_help_modules_have_some():
    content = load_content(BUNDLED, CODES)  # an unknown code would raise
    for module_id in ("legal_aid", "employment", "farm_insurance", "poverty_relief", "online", "farmer_credit"):
        assert len(content.related_to(module_id)) >= 2, module_id
    catalog = load_catalog(CATALOG)
    assert {catalog.get(c).name for c in content.related_to("legal_aid")} >= {"法律援助申请"}
    assert {catalog.get(c).name for c in content.related_to("poverty_relief")} >= {
        "最低生活保障申请", "临时救助申请", "特困人员救助供养申请"}
