"""Published articles the modules show: notices, tenders, news, disclosures, how-to pages.

A data file operators replace (``kiosk/content_data/articles.toml`` by default). Each
``[[article]]`` names the module that lists it (``kind``, a module id), a title, a date,
its source and its text. The ``[related]`` table maps a module id to the service items
(catalog item codes) whose guides its page offers, e.g. ``legal_aid = ["0500901000"]``.
"""
from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType

from kiosk.catalog.items import ItemCode
from kiosk.catalog.modules import MODULES

BUNDLED = Path(__file__).resolve().parent / "content_data" / "articles.toml"
KINDS = tuple(m.id for m in MODULES)
_KEYS = {"kind", "title", "published", "body", "source"}


class ContentError(ValueError):
    """The articles file is not valid; the message names the article or module and the key."""


@dataclass(frozen=True)
class Article:
    kind: str
    title: str
    published: date
    body: str
    source: str = ""

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The body's non-empty lines, each a paragraph."""
        return tuple(line.strip() for line in self.body.splitlines() if line.strip())


@dataclass(frozen=True)
class Content:
    articles: tuple[Article, ...]
    related: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def of_kind(self, kind: str) -> tuple[Article, ...]:
        """Articles of one kind, newest first."""
        return tuple(sorted((a for a in self.articles if a.kind == kind), key=lambda a: a.published, reverse=True))

    def related_to(self, kind: str) -> tuple[str, ...]:
        """The item codes whose guides module ``kind`` offers, in file order."""
        return self.related.get(kind, ())


def load_content(path: Path | str = BUNDLED, known_codes: Collection[str] | None = None) -> Content:
    """The articles file at ``path``; ContentError naming what is wrong.

    ``known_codes`` (basic item codes of the catalog in use), when given, must hold
    every code of ``[related]``.
    """
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"{path}: {exc}") from None
    unknown = set(raw) - {"article", "related"}
    if unknown:
        raise ContentError(f"{path}: unknown tables {', '.join(sorted(unknown))}")
    entries = raw.get("article", [])
    if not isinstance(entries, list):
        raise ContentError(f"{path}: 'article' must be an array of tables ([[article]])")
    articles = tuple(_article(entry, f"{path}: article {i + 1}") for i, entry in enumerate(entries))
    return Content(articles, _related(raw.get("related", {}), path, known_codes))


def _article(entry: object, where: str) -> Article:
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: must be a table")
    if set(entry) - _KEYS:
        raise ContentError(f"{where}: unknown keys {', '.join(sorted(set(entry) - _KEYS))}")
    if entry.get("kind") not in KINDS:
        raise ContentError(f"{where}: kind {entry.get('kind')!r} is not a module id ({', '.join(KINDS)})")
    published = entry.get("published")
    if not isinstance(published, date):
        raise ContentError(f"{where}: 'published' must be a date")
    if isinstance(published, datetime):  # a TOML date-time: the day is what is published
        published = published.date()
    for key in ("title", "body"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ContentError(f"{where}: {key!r} must be non-empty text")
    if not isinstance(entry.get("source", ""), str):
        raise ContentError(f"{where}: 'source' must be text")
    return Article(entry["kind"], entry["title"].strip(), published, entry["body"].strip(), entry.get("source", ""))


def _related(table: object, path: Path | str, known_codes: Collection[str] | None) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ContentError(f"{path}: 'related' must be a table of module id = [item codes]")
    related = {}
    for kind, codes in table.items():
        where = f"{path}: related.{kind}"
        if kind not in KINDS:
            raise ContentError(f"{where}: {kind!r} is not a module id ({', '.join(KINDS)})")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ContentError(f"{where}: must be a list of item codes")
        basics = []
        for code in codes:
            try:
                basic = ItemCode.parse(code).basic
            except ValueError:
                raise ContentError(f"{where}: {code!r} is not an item code (10 digits, e.g. 0500901000)") from None
            if known_codes is not None and basic not in known_codes:
                raise ContentError(f"{where}: item {code} is not in the catalog")
            if basic not in basics:
                basics.append(basic)
        related[kind] = tuple(basics)
    return MappingProxyType(related)
