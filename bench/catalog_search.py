"""Per-keystroke catalog search latency: the index (kiosk.catalog.search) against a naive
linear scan that converts every name to pinyin on each keystroke, in the same run.

Run: python bench/catalog_search.py
"""
from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypinyin import Style, lazy_pinyin  # noqa: E402

from kiosk.catalog import BUNDLED, Catalog, CatalogSearch, ItemCode, load_catalog  # noqa: E402
from kiosk.catalog.search import normalize  # noqa: E402

TYPED = ["wufangchanzhengming", "wfczm", "dibao", "shebaoka", "chengxiangjumin", "hukouqianyi", "gljt",
         "无房产证明", "户口迁移", "最低生活保障"]


def naive(catalog: Catalog, query: str) -> list:
    """Baseline: scan every item, computing its pinyin now; substring on name, pinyin, initials."""
    q = normalize(query)
    hits = []
    for item in catalog:
        syl = lazy_pinyin(item.name, style=Style.NORMAL)
        if q in item.name or q in "".join(syl) or q in "".join(s[:1] for s in syl):
            hits.append(item)
    return hits


def scaled(catalog: Catalog, times: int) -> Catalog:
    """The catalog repeated ``times`` times under distinct codes (a province-sized list)."""
    items = tuple(dataclasses.replace(item, code=ItemCode(item.code.type, f"{k:02d}{item.code.main[2:]}", item.code.sub))
                  for k in range(times) for item in catalog)
    return Catalog(catalog.version, catalog.region, items)


def keystrokes(fn) -> list[float]:
    """Latency of every keystroke of every typed query, in microseconds."""
    out = []
    for word in TYPED:
        fn("")
        for n in range(1, len(word) + 1):
            t = time.perf_counter()
            fn(word[:n])
            out.append((time.perf_counter() - t) * 1e6)
    return out


def report(label: str, samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[18]
    return f"{label:<28} mean {statistics.mean(samples):9.1f} µs   p95 {p95:9.1f} µs"


def main() -> None:
    base = load_catalog(BUNDLED)
    for times in (1, 10):
        catalog = scaled(base, times)
        t = time.perf_counter()
        index = CatalogSearch(catalog)
        build_ms = (time.perf_counter() - t) * 1e3
        for _ in range(2):  # warm up both
            keystrokes(index.search)
            keystrokes(lambda q: naive(catalog, q))
        ours = keystrokes(index.search)
        baseline = keystrokes(lambda q: naive(catalog, q))
        print(f"== {len(catalog)} items ({len(ours)} keystrokes; index built once in {build_ms:.1f} ms)")
        print(report("index (kiosk.catalog)", ours))
        print(report("baseline: naive scan", baseline))
        print(f"speed-up (mean): {statistics.mean(baseline) / statistics.mean(ours):.1f}x")


if __name__ == "__main__":
    main()
