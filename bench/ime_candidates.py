"""Per-keystroke latency of the pinyin keyboard's candidates (kiosk.ime) against a baseline
measured in the same run: a linear scan over the same word list that keeps every word whose
full pinyin or initials start with the typed letters (a simpler rule, so a kind baseline).

Run: python bench/ime_candidates.py
"""
from __future__ import annotations

import gzip
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.ime import TABLE, Lexicon  # noqa: E402

TYPED = ["wufangchanzhengming", "wfczm", "dibao", "yibao", "yanglao", "hukou", "canjizheng",
         "shenfenzheng", "sfz", "woyaobanlishebaoka", "zuidishenghuobaozhang", "xian", "zhongguo"]


def word_list() -> list[tuple[str, str, str, int]]:
    """(word, full pinyin, initials, frequency) of every entry of the table."""
    out = []
    with gzip.open(TABLE, "rt", encoding="utf-8") as f:
        for line in f:
            key, words, syl, freqs = line.rstrip("\n").split("\t")
            n, syl, freqs = len(key), syl.split(), freqs.split()
            for w in range(len(freqs)):
                out.append((words[w * n:(w + 1) * n], "".join(syl[w * n:(w + 1) * n]), key, int(freqs[w])))
    return out


def linear(words, latin: str) -> list[str]:
    hits = [(-freq, word) for word, full, initials, freq in words
            if full.startswith(latin) or initials.startswith(latin) or latin.startswith(full)]
    return [word for _, word in sorted(hits)[:8]]


def keystrokes(fn) -> list[float]:
    """Latency of every keystroke of every typed word, in microseconds."""
    out = []
    for word in TYPED:
        for n in range(1, len(word) + 1):
            t = time.perf_counter()
            fn(word[:n])
            out.append((time.perf_counter() - t) * 1e6)
    return out


def report(name: str, us: list[float]) -> None:
    us = sorted(us)
    p95 = us[int(len(us) * 0.95)]
    print(f"{name:<34} median {statistics.median(us):9.0f} µs   p95 {p95:9.0f} µs   max {us[-1]:9.0f} µs")


def main() -> None:
    t = time.perf_counter()
    lexicon = Lexicon.load(TABLE)
    load = time.perf_counter() - t
    tracemalloc.start()
    Lexicon.load(TABLE)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"table: {TABLE.stat().st_size / 1e6:.2f} MB on disk, loaded in {load * 1e3:.0f} ms, "
          f"{size / 1e6:.1f} MB in memory, {len(lexicon.groups)} groups")
    words = word_list()
    print(f"{len(TYPED)} words, {sum(map(len, TYPED))} keystrokes, {len(words)} entries")
    report("kiosk.ime, first typing (cold)", keystrokes(lexicon.lookup))
    report("kiosk.ime, typed again (warm)", keystrokes(lexicon.lookup))
    report("baseline: linear scan", keystrokes(lambda latin: linear(words, latin)))


if __name__ == "__main__":
    main()
