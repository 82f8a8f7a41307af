"""The engine of the on-screen pinyin keyboard: letters in, ranked Chinese candidates out.

The user types Latin letters (``'`` separates syllables). A word matches a prefix of the
input when the input splits into *pieces*, one per character of the word, each piece a
full syllable ("fang"), an initial ("f", "zh": "wfc" finds 无房产) or, at the end of the
input, any beginning of a syllable (typing in progress). Candidates rank: words read
from full syllables before words that shorten a syllable inside the input ("woy" for
握有 in "woyao"), then by how much of the input they stand for, how exactly they follow
it, and word frequency.
``choose`` commits a candidate and keeps the rest of the input.

The table (``ime_data/table.tsv.gz``) is built once from jieba's dict.txt (word
frequencies), pypinyin (readings) and ``ime_data/gov_words.txt`` (the service hall's
words): ``python -m kiosk.ime build``. Words are grouped by their initials ("wfczm"),
every word of a group has as many characters as the key has letters, so a group is one
string of characters, one array of syllable ids and one array of frequencies.
"""
from __future__ import annotations

import argparse
import gzip
import logging
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "ime_data"
TABLE = DATA_DIR / "table.tsv.gz"
GOV_WORDS = DATA_DIR / "gov_words.txt"
PAGE_SIZE = 8
MAX_INPUT = 40  # letters; a longer input is refused (no real word is that long)
MAX_WORD = 8  # characters
SEPARATOR = "'"
_SYLLABLE = re.compile(r"[a-z]*[aeiouv][a-z]*")  # no hm, ng: they would shadow initials
SECONDARY = 20  # a character's other readings count 1/20 of its frequency
MATCH_LIMIT = 64  # best words kept per group and reading of the input


@dataclass(frozen=True)
class Candidate:
    """A word for the first ``consumed`` characters of the input, read as ``pinyin``."""

    text: str
    consumed: int
    pinyin: tuple[str, ...]


# -- the table ----------------------------------------------------------------------------
def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _entries(jieba_dict: Path, max_words: int, extra: Path, extra_freq: int) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(word, syllables, frequency) of every entry of the table, from the sources."""
    from pypinyin import Style, lazy_pinyin, pinyin

    chars: dict[str, int] = {}
    words: dict[str, int] = {}
    for line in jieba_dict.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit() or not all(map(_is_cjk, parts[0])):
            continue
        word, freq = parts[0], int(parts[1])
        if len(word) == 1:
            chars[word] = chars.get(word, 0) + freq
        elif len(word) <= MAX_WORD:
            words[word] = words.get(word, 0) + freq
    top = dict(sorted(words.items(), key=lambda kv: -kv[1])[:max_words])
    for line in extra.read_text(encoding="utf-8").splitlines():
        parts = line.split("#")[0].split()
        if parts:
            word = parts[0]
            top[word] = max(top.get(word, 0), int(parts[1]) if len(parts) > 1 else extra_freq)
    for ch, freq in chars.items():
        readings = dict.fromkeys(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])
        for n, reading in enumerate(readings):
            if _SYLLABLE.fullmatch(reading) and len(reading) <= 6:
                yield ch, (reading,), freq if n == 0 else max(1, freq // SECONDARY)
    for word, freq in top.items():
        syl = tuple(lazy_pinyin(word, style=Style.NORMAL))
        if len(syl) == len(word) and all(_SYLLABLE.fullmatch(s) for s in syl):
            yield word, syl, freq


def build_table(jieba_dict: Path, out: Path = TABLE, *, max_words: int = 60000,
                extra: Path = GOV_WORDS, extra_freq: int = 20000) -> int:
    """Write the table to ``out``; returns the number of entries."""
    groups: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
    for word, syl, freq in _entries(jieba_dict, max_words, extra, extra_freq):
        groups.setdefault("".join(s[0] for s in syl), []).append((freq, word, syl))
    lines = []
    for key in sorted(groups):
        rows = sorted(groups[key], key=lambda r: (-r[0], r[1]))
        lines.append("\t".join((key, "".join(r[1] for r in rows), " ".join(" ".join(r[2]) for r in rows),
                                " ".join(str(r[0]) for r in rows))))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))  # mtime=0: the same sources, the same bytes
    count = sum(map(len, groups.values()))
    log.info("IME table %s: %d entries in %d groups", out, count, len(groups))
    return count


@dataclass(frozen=True)
class _Group:
    words: str  # the words, each len(key) characters, most frequent first
    syllables: array  # syllable ids, len(key) per word
    freqs: array


class Lexicon:
    """The loaded table. Build once (``load``), share between keyboards."""

    def __init__(self, groups: dict[str, _Group], syllables: tuple[str, ...]):
        self.groups = groups
        self.syllables = syllables  # id → syllable
        self.syllable_ids = {s: n for n, s in enumerate(syllables)}
        by_prefix: dict[str, set[int]] = {}
        for n, s in enumerate(syllables):
            for k in range(1, len(s) + 1):
                by_prefix.setdefault(s[:k], set()).add(n)
        self.by_prefix = {p: frozenset(ids) for p, ids in by_prefix.items()}  # "zh" → ids of zh*
        self.key_prefixes = {key[:k] for key in groups for k in range(1, len(key) + 1)}
        self._matches = lru_cache(maxsize=8192)(self._scan)  # typing reuses earlier pieces

    @classmethod
    def load(cls, path: Path = TABLE) -> Lexicon:
        ids: dict[str, int] = {}
        groups = {}
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                key, words, syl, freqs = line.rstrip("\n").split("\t")
                groups[key] = _Group(words, array("H", (ids.setdefault(s, len(ids)) for s in syl.split())),
                                     array("I", map(int, freqs.split())))
        log.info("IME table %s: %d groups, %d syllables", path, len(groups), len(ids))
        return cls(groups, tuple(ids))

    # -- matching ---------------------------------------------------------------------
    def pieces(self, latin: str, at: int) -> list[tuple[str, bool, int]]:
        """The pieces the input can have at ``at``: (letters, exact, next position).

        An exact piece is a full syllable; the others stand for every syllable they begin:
        an initial ("f", "zh"; not "z" before "h"), or the letters at the end of the input.
        """
        out = []
        end = len(latin)
        for k in range(at + 1, min(at + 6, end) + 1):
            text = latin[at:k]
            if text not in self.by_prefix:
                break  # no syllable starts with it, nor with anything longer
            nxt = k + 1 if k < end and latin[k] == SEPARATOR else k
            if k == end or (text in ("zh", "ch", "sh")) or (k == at + 1 and not (text in "zcs" and latin[k] == "h")):
                out.append((text, False, nxt))
            elif text in self.syllable_ids:
                out.append((text, True, nxt))
        return out

    def lookup(self, latin: str) -> list[Candidate]:
        """Words matching a prefix of ``latin``, best first (see the module doc), each once."""
        found: dict[tuple[str, int], tuple[tuple[bool, int], int, tuple[str, ...]]] = {}
        start = 1 if latin.startswith(SEPARATOR) else 0
        stack: list[tuple[int, str, tuple[tuple[str, bool], ...]]] = [(start, "", ())]
        while stack:
            at, key, pieces = stack.pop()
            for text, exact, nxt in self.pieces(latin, at):
                k2 = key + text[0]
                if k2 not in self.key_prefixes:
                    continue
                p2 = pieces + ((text, exact),)
                if k2 in self.groups:
                    for word, inexact, freq, syl in self._matches(k2, p2):
                        # a shortened syllable inside the input ranks after full readings
                        grade = (inexact - (nxt == len(latin) and syl[-1] != text) > 0, inexact)
                        old = found.get((word, nxt))
                        if old is None or (grade, -freq) < (old[0], -old[1]):
                            found[word, nxt] = (grade, freq, syl)
                if len(k2) < MAX_WORD and nxt < len(latin):
                    stack.append((nxt, k2, p2))
        ranked = sorted(found.items(), key=lambda kv: (kv[1][0][0], -kv[0][1], kv[1][0][1], -kv[1][1], kv[0][0]))
        seen: set[str] = set()
        out = []
        for (word, consumed), (_, _, syl) in ranked:
            if word not in seen:
                seen.add(word)
                out.append(Candidate(word, consumed, syl))
        return out

    def _scan(self, key: str, pieces: tuple[tuple[str, bool], ...]) -> tuple:
        """The best ``MATCH_LIMIT`` words of group ``key`` read as ``pieces``:
        (word, pieces not typed in full, frequency, syllables)."""
        group = self.groups[key]
        n = len(pieces)
        allowed = [frozenset((self.syllable_ids[t],)) if exact else self.by_prefix[t] for t, exact in pieces]
        out = []
        for w in range(len(group.freqs)):
            ids = group.syllables[w * n:(w + 1) * n]
            if all(i in a for i, a in zip(ids, allowed)):
                syl = tuple(self.syllables[i] for i in ids)
                inexact = sum(s != p[0] for s, p in zip(syl, pieces))
                out.append((group.words[w * n:(w + 1) * n], inexact, group.freqs[w], syl))
                if len(out) == MATCH_LIMIT:
                    break
        return tuple(out)

    def segment(self, latin: str) -> tuple[str, ...]:
        """One reading of ``latin`` as pieces, for display: "wufangchan" → wu fang chan.

        Fewest pieces that are not full syllables, then fewest pieces; letters that begin
        no syllable stand alone.
        """
        n = len(latin)
        best: list[tuple[int, int, tuple[str, ...]] | None] = [None] * (n + 1)
        best[n] = (0, 0, ())
        for at in range(n - 1, -1, -1):
            if latin[at] == SEPARATOR:
                best[at] = best[at + 1]
                continue
            options = [(text, nxt) for text, _, nxt in self.pieces(latin, at)] or [(latin[at], at + 1)]
            for text, nxt in options:
                tail = best[nxt]
                cost = (tail[0] + (text not in self.syllable_ids), tail[1] + 1, (text,) + tail[2])
                if best[at] is None or cost[:2] < best[at][:2]:
                    best[at] = cost
        return best[0][2]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The bundled table, loaded on first use."""
    return Lexicon.load(TABLE)


# -- the keyboard's state -------------------------------------------------------------------
class PinyinInput:
    """What the keyboard shows: the committed characters, the pending letters, candidates."""

    def __init__(self, lexicon: Lexicon | None = None):
        self._lexicon = lexicon
        self.committed = ""  # chosen so far in this composition
        self.latin = ""  # letters not yet converted
        self._cache: tuple[str, list[Candidate]] = ("", [])

    @property
    def lexicon(self) -> Lexicon:
        """The given lexicon, else the bundled one, loaded at the first keystroke (not at start)."""
        if self._lexicon is None:
            self._lexicon = default_lexicon()
        return self._lexicon

    def type(self, letters: str) -> bool:
        """Add letters (a–z and ``'``); False, and nothing added, if they do not fit."""
        letters = letters.lower()
        if not all(c.isascii() and (c.isalpha() or c == SEPARATOR) for c in letters):
            return False
        if len(self.latin) + len(letters) > MAX_INPUT:
            return False
        self.latin += letters
        return True

    def backspace(self) -> None:
        """Remove the last letter, or the last committed character when no letter is left."""
        if self.latin:
            self.latin = self.latin[:-1]
        else:
            self.committed = self.committed[:-1]

    def clear(self) -> None:
        self.committed = self.latin = ""
        self._cache = ("", [])

    def segments(self) -> tuple[str, ...]:
        return self.lexicon.segment(self.latin)

    def candidates(self, limit: int | None = None) -> list[Candidate]:
        """Candidates for the pending letters, best first (``PAGE_SIZE`` make a page)."""
        if self._cache[0] != self.latin:
            self._cache = (self.latin, self.lexicon.lookup(self.latin) if self.latin else [])
        found = self._cache[1]
        return found if limit is None else found[:limit]

    def choose(self, index: int) -> str | None:
        """Commit candidate ``index``; returns the whole text once no letter is left."""
        chosen = self.candidates()[index]
        self.committed += chosen.text
        self.latin = self.latin[chosen.consumed:].lstrip(SEPARATOR)
        if self.latin:
            return None
        text, self.committed = self.committed, ""
        return text


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kiosk.ime", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the table from jieba's dict.txt")
    build.add_argument("--dict", type=Path, help="jieba dict.txt (default: the installed jieba's)")
    build.add_argument("--out", type=Path, default=TABLE)
    build.add_argument("--max-words", type=int, default=60000)
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(level=logging.INFO)
    source = args.dict
    if source is None:
        import jieba
        source = Path(jieba.__file__).parent / "dict.txt"
    build_table(source, args.out, max_words=args.max_words)


if __name__ == "__main__":
    main()
