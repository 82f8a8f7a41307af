"""The simulated fleet's layout: terminals, their stations, townships, groups and tiers.

Deterministic from the seed, so ``fleet-sim --registry-csv`` writes the same registry the
running simulation speaks for, and the manager can be seeded from it. Tiers follow
DOMAIN.md: demonstration / standard / simple stations in proportions 20/50/30.
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from fleet.protocol import check_id

TIERS = (("demonstration", 0.2), ("standard", 0.5), ("simple", 0.3))
CSV_COLUMNS = ("id", "station", "township", "group", "tier", "groups", "residents", "staff")
# Place-name syllables with their pinyin: township and village names are built from pairs.
SYLLABLES = (
    ("青", "qing"), ("山", "shan"), ("石", "shi"), ("桥", "qiao"), ("河", "he"), ("东", "dong"),
    ("西", "xi"), ("南", "nan"), ("北", "bei"), ("龙", "long"), ("凤", "feng"), ("林", "lin"),
    ("湖", "hu"), ("田", "tian"), ("塘", "tang"), ("坪", "ping"), ("岭", "ling"), ("溪", "xi"),
    ("平", "ping"), ("安", "an"), ("新", "xin"), ("兴", "xing"), ("和", "he"), ("丰", "feng"),
    ("黄", "huang"), ("白", "bai"), ("马", "ma"), ("章", "zhang"), ("麻", "ma"), ("太", "tai"),
    ("金", "jin"), ("沙", "sha"), ("竹", "zhu"), ("松", "song"), ("梅", "mei"), ("柳", "liu"),
    ("上", "shang"), ("下", "xia"), ("高", "gao"), ("长", "chang"), ("大", "da"), ("小", "xiao"),
)
VILLAGE_SUFFIXES = ("村", "村", "村", "社区")
MAX_TOWNSHIPS = 5000
MAX_TERMINALS = 50000


@dataclass(frozen=True)
class SimTerminal:
    """One terminal of the layout, as the manager's registry holds it."""

    id: str
    station: str  # 石桥村便民服务站
    township: str  # 青山镇
    group: str  # the township's group id, e.g. "qingshan"
    tier: str  # demonstration | standard | simple
    residents: int
    staff: int  # resident agents (代办员) of the station

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups whose jobs it takes: its township and its tier."""
        return (self.group, f"tier-{self.tier}")

    def row(self) -> dict[str, str | int]:
        return {"id": self.id, "station": self.station, "township": self.township, "group": self.group,
                "tier": self.tier, "groups": " ".join(self.groups), "residents": self.residents,
                "staff": self.staff}


def _names(rng: random.Random, count: int, taken: set[str], long_share: float) -> list[tuple[str, str]]:
    """``count`` new place names (Chinese, pinyin) of two syllables, or three for ``long_share`` of
    them, unique in both spellings."""
    names = []
    while len(names) < count:
        parts = rng.sample(SYLLABLES, 3 if rng.random() < long_share else 2)
        name, slug = "".join(c for c, _ in parts), "".join(py for _, py in parts)
        if name not in taken and slug not in taken:
            taken.update((name, slug))
            names.append((name, slug))
    return names


def layout(count: int, prefix: str = "sim", seed: int = 0, townships: int | None = None) -> list[SimTerminal]:
    """``count`` terminals ``<prefix>-00000`` … spread over ``townships`` (default: one per 30)."""
    if not 1 <= count <= MAX_TERMINALS:
        raise ValueError(f"count must be between 1 and {MAX_TERMINALS}")
    check_id(f"{prefix}-{count - 1:05d}", "prefix")
    townships = townships or max(1, -(-count // 30))
    if not 1 <= townships <= min(count, MAX_TOWNSHIPS):
        raise ValueError(f"township count must be between 1 and the terminal count (at most {MAX_TOWNSHIPS})")
    rng = random.Random(seed)
    taken: set[str] = set()
    towns = _names(rng, townships, taken, 0.1)
    villages = _names(rng, count, taken, 0.6)
    tiers = [tier for tier, share in TIERS for _ in range(round(share * count))]
    tiers = (tiers + ["standard"] * count)[:count]
    rng.shuffle(tiers)
    terminals = []
    for i in range(count):
        town, slug = towns[i * townships // count]
        residents = rng.randint(600, 4000)
        terminals.append(SimTerminal(
            f"{prefix}-{i:05d}", f"{villages[i][0]}{rng.choice(VILLAGE_SUFFIXES)}便民服务站", f"{town}镇",
            slug, tiers[i], residents, 2 if residents >= 1000 else 1))
    return terminals


def write_csv(terminals: list[SimTerminal], path: Path | str) -> None:
    """The registry as CSV (UTF-8, header ``id,station,township,group,tier,groups,residents,staff``)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(t.row() for t in terminals)
