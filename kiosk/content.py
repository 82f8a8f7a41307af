"""Published articles the modules show: notices, tenders, news, disclosures.

A data file operators replace (``kiosk/content_data/articles.toml`` by default); each
article names the module that lists it (``kind``, a module id), a title, a date, its text.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kiosk.catalog.modules import MODULES

BUNDLED = Path(__file__).resolve().parent / "content_data" / "articles.toml"
KINDS = tuple(m.id for m in MODULES)


class ContentError(ValueError):
    """The articles file is not valid; the message names the article and the key."""


@dataclass(frozen=True)
class Article:
    kind: str
    title: str
    published: date
    body: str
    source: str = ""


@dataclass(frozen=True)
class Content:
    articles: tuple[Article, ...]

    def of_kind(self, kind: str) -> tuple[Article, ...]:
        """Articles of one kind, newest first."""
        return tuple(sorted((a for a in self.articles if a.kind == kind), key=lambda a: a.published, reverse=True))


def load_content(path: Path | str = BUNDLED) -> Content:
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ContentError(f"{path}: {exc}") from None
    articles = []
    for i, entry in enumerate(raw.get("article", [])):
        where = f"{path}: article {i + 1}"
        if not isinstance(entry, dict) or set(entry) - {"kind", "title", "published", "body", "source"}:
            raise ContentError(f"{where}: unknown keys")
        if entry.get("kind") not in KINDS:
            raise ContentError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(entry.get("published"), date):
            raise ContentError(f"{where}: 'published' must be a date")
        if not all(isinstance(entry.get(k, ""), str) and entry.get(k, "x") for k in ("title", "body")):
            raise ContentError(f"{where}: 'title' and 'body' must be non-empty text")
        articles.append(Article(**entry))
    return Content(tuple(articles))
