"""Search the catalog by characters, full pinyin and pinyin initials, on every keystroke.

The index is built once per catalog: every name, alias, window and department as text
and as pinyin syllables. A latin query matches when it can be split into non-empty
prefixes of consecutive syllables, so "wfc", "wufang", "wufangc" and "wfchan" all find
无房产证明. Ranking: exact name, then name prefix, then inside the name, then aliases,
then window/department; ties go to the shorter name, then file order. A query that
extends the previous one only looks at the previous hits (matching is monotone).

A latin match is *clean* when it follows the full pinyin ("wufangc") or the initials
("wfc") and *loose* when it mixes them ("wfchan", or "dibao" in 电报 = dian·bao);
loose matches rank after every clean one.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.catalog.items import Catalog, ServiceItem
from kiosk.catalog.readings import readings

NAME, ALIAS, PLACE = "name", "alias", "place"
EXACT, PREFIX, INSIDE, LOOSE = "exact", "prefix", "inside", "loose"
# (kind of key, how it matched) → rank; lower ranks first. Place keys rank last however they match.
RANKS = {(NAME, EXACT): 0, (NAME, PREFIX): 1, (ALIAS, EXACT): 2, (NAME, INSIDE): 3,
         (ALIAS, PREFIX): 4, (ALIAS, INSIDE): 4, (NAME, LOOSE): 5, (ALIAS, LOOSE): 6}
PLACE_RANK = 7


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def normalize(query: str) -> str:
    """Lower case, without spaces, apostrophes and full-width forms."""
    out = []
    for ch in query.strip():
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII → ASCII
            ch = chr(code - 0xFEE0)
        if ch.isspace() or ch in "'’·":
            continue
        out.append(ch.lower())
    return "".join(out)


def syllables(text: str) -> tuple[str, ...]:
    """The pinyin syllables (no tones) of the Chinese characters and ASCII words of ``text``."""
    return readings([text])[text]


@dataclass(frozen=True)
class _Key:
    text: str
    syllables: tuple[str, ...]
    full: str
    initials: str
    starts: tuple[int, ...]   # where each syllable starts in ``full``
    kind: str

    @classmethod
    def of(cls, text: str, kind: str, syl: tuple[str, ...]) -> _Key:
        starts = tuple(sum(len(s) for s in syl[:n]) for n in range(len(syl)))
        return cls(normalize(text), syl, "".join(syl), "".join(s[0] for s in syl), starts, kind)

    def heads(self) -> set[str]:
        return {s[0] for s in self.syllables} | set(self.text)

    def rank(self, query: str, latin: bool) -> int | None:
        """How well ``query`` matches this key (see ``RANKS``), or None."""
        how = self._how(query, latin)
        if how is None:
            return None
        return PLACE_RANK if self.kind == PLACE else RANKS[self.kind, how]

    def _how(self, query: str, latin: bool) -> str | None:
        if not latin:
            if query == self.text:
                return EXACT
            if self.text.startswith(query):
                return PREFIX
            return INSIDE if query in self.text else None
        if query in (self.full, self.initials):
            return EXACT
        for n, at in enumerate(self.starts):
            if self.full.startswith(query, at) or self.initials.startswith(query, n):
                return PREFIX if n == 0 else INSIDE
        if any(_spans(query, self.syllables, n) for n in range(len(self.syllables))):
            return LOOSE
        return None


def _spans(query: str, syl: tuple[str, ...], start: int) -> bool:
    """Can ``query`` be cut into non-empty prefixes of ``syl[start], syl[start+1], ...``?"""
    reach = {0}
    for s in syl[start:]:
        nxt = set()
        for i in reach:
            k = 0
            while k < len(s) and i + k < len(query) and s[k] == query[i + k]:
                k += 1
                nxt.add(i + k)
        if len(query) in nxt:
            return True
        if not nxt:
            return False
        reach = nxt
    return False


class CatalogSearch:
    """A search index over one catalog. Build once; ``search`` on every keystroke."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._keys: list[tuple[_Key, ...]] = []
        self._heads: dict[str, set[int]] = {}
        texts = {t for item in catalog.items for t in (item.name, *item.aliases, item.window, item.department)}
        read = readings(texts)
        for n, item in enumerate(catalog.items):
            keys = (_Key.of(item.name, NAME, read[item.name]),
                    *(_Key.of(a, ALIAS, read[a]) for a in item.aliases),
                    _Key.of(item.window, PLACE, read[item.window]),
                    _Key.of(item.department, PLACE, read[item.department]))
            self._keys.append(keys)
            for key in keys:
                for head in key.heads():
                    self._heads.setdefault(head, set()).add(n)
        self._last: tuple[str, tuple[int, ...]] = ("", ())

    def search(self, query: str, limit: int | None = None) -> tuple[ServiceItem, ...]:
        """Items matching ``query``, best first; empty for an empty query."""
        q = normalize(query)
        if not q:
            self._last = ("", ())   # a cleared box starts over
            return ()
        latin = q.isascii() and not q.isdigit()
        last_q, last_hits = self._last
        if last_q and q.startswith(last_q) and last_q.isascii() == q.isascii():
            candidates = last_hits
        else:
            candidates = tuple(sorted(self._heads.get(q[0], ())))
        scored = []
        for n in candidates:
            tiers = [t for k in self._keys[n] if (t := k.rank(q, latin)) is not None]
            if tiers:
                scored.append((min(tiers), len(self.catalog.items[n].name), n))
        scored.sort()
        self._last = (q, tuple(sorted(n for _, _, n in scored)))
        hits = tuple(self.catalog.items[n] for _, _, n in scored)
        return hits if limit is None else hits[:limit]
