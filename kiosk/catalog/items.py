"""Service items (事项) as frozen values: the eight published fields, code, form fields.

Item content is Chinese data from the catalog file; only the vocabularies here
(windows, life events, item types) carry gettext message ids.

Item code (``ItemCode``): the national basic directory of GB/T 39554.1-2020 codes every
item. The standard's text was not available while this was written; the structure used
is the one its provincial implementations publish (e.g. DB52/T 1264-2018): a 10-digit
basic code = 2-digit item type + 5-digit main item + 3-digit sub-item (``000`` when the
item has no sub-items). The implementation code prefixes the 6-digit GB/T 2260
division code of the implementing region.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from l10n import N_

VILLAGE = "village"
TOWNSHIP = "township"
LEVELS = (VILLAGE, TOWNSHIP)

# Windows of a village station and of a township hall (seed 001).
VILLAGE_WINDOWS = ("卫计", "民政", "人社", "国土", "财政", "综合")
TOWNSHIP_WINDOWS = ("卫计", "民政", "人社", "公安", "司法", "工商", "国税", "国土", "住建", "财政",
                    "农牧林水", "综合")

ITEM_TYPES: dict[str, str] = {
    "01": N_("Administrative licence"),
    "05": N_("Administrative payment"),
    "07": N_("Administrative confirmation"),
    "09": N_("Administrative ruling"),
    "10": N_("Other administrative power"),
    "20": N_("Public service"),
}

LIFE_EVENTS: dict[str, str] = {
    "birth": N_("Having a baby"),
    "schooling": N_("Going to school"),
    "work": N_("Work and jobs"),
    "marriage": N_("Marriage"),
    "old_age": N_("Old age"),
    "death": N_("Death and funerals"),
    "housing": N_("Housing and land"),
    "farming": N_("Farming"),
    "business": N_("Running a business"),
    "disability": N_("Disability"),
    "relief": N_("Hardship relief"),
    "health": N_("Health and medical care"),
    "identity": N_("ID and household register"),
    "legal": N_("Legal help"),
    "utilities": N_("Water, power and TV"),
    "military": N_("Military service"),
}

FIELD_TYPES = ("text", "number", "date", "choice", "id_number", "phone")

# What a form field may be filled from: the resident ID card (GA 490 fields) and the visit.
PREFILL_SOURCES = ("identity.name", "identity.gender", "identity.nation", "identity.birth_date",
                   "identity.address", "identity.id_number", "session.phone")


@dataclass(frozen=True)
class ItemCode:
    """A national service item code: ``type`` (2) + ``main`` (5) + ``sub`` (3) digits."""

    type: str
    main: str
    sub: str

    @classmethod
    def parse(cls, text: str) -> ItemCode:
        """``"2000101000"`` or ``"20-00101-000"``; ValueError if it is neither."""
        digits = text.replace("-", "")
        if len(digits) != 10 or not digits.isascii() or not digits.isdigit() or digits[:2] not in ITEM_TYPES:
            raise ValueError(text)
        return cls(digits[:2], digits[2:7], digits[7:])

    @property
    def basic(self) -> str:
        return self.type + self.main + self.sub

    @property
    def type_title(self) -> str:
        """The item type's message id, e.g. "Public service"."""
        return ITEM_TYPES[self.type]

    def implementation(self, region: str) -> str:
        """The code as implemented in ``region`` (a GB/T 2260 division code)."""
        return region + self.basic

    def __str__(self) -> str:
        return f"{self.type}-{self.main}-{self.sub}"


@dataclass(frozen=True)
class Material:
    """One required material (申报材料): how many originals and copies to bring."""

    name: str
    originals: int = 1
    copies: int = 0
    note: str = ""


@dataclass(frozen=True)
class FormField:
    """One field of an item's application form."""

    name: str
    label_zh: str
    label_en: str
    type: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    prefill: str = ""

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en


@dataclass(frozen=True)
class ServiceItem:
    """A service item with the eight published fields (八公开) and what the terminal needs."""

    code: ItemCode
    name: str                       # 事项名称
    level: str                      # village / township
    window: str
    department: str
    handling_body: str              # 办理主体
    life_events: tuple[str, ...]
    legal_basis: str                # 实施依据
    conditions: str                 # 申报条件
    materials: tuple[Material, ...]  # 申报材料
    procedure: tuple[str, ...]      # 办理程序, in order
    time_limit_days: int            # 承诺时限, working days; 0 = on the spot
    fee_basis: str                  # 收费依据
    fee_standard: str               # 收费标准
    sample_form: str = ""           # 示范文本
    on_the_spot: bool = False       # 现场办结
    aliases: tuple[str, ...] = ()
    form: tuple[FormField, ...] = ()

    @property
    def free(self) -> bool:
        return self.fee_standard.strip() in ("不收费", "免费", "")

    def published_fields(self) -> tuple[tuple[str, object], ...]:
        """The eight published fields, in their customary order, under their Chinese titles."""
        return (("事项名称", self.name), ("实施依据", self.legal_basis), ("申报条件", self.conditions),
                ("申报材料", self.materials), ("办理程序", self.procedure),
                ("承诺时限", self.time_limit_days), ("收费依据", self.fee_basis),
                ("收费标准", self.fee_standard))


@dataclass(frozen=True)
class Catalog:
    """Every item of one catalog file, in file order, with the browse views."""

    version: str
    region: str
    items: tuple[ServiceItem, ...]
    source: str = ""
    _by_code: dict[str, ServiceItem] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update((i.code.basic, i) for i in self.items)

    def __iter__(self) -> Iterator[ServiceItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, code: str) -> ServiceItem | None:
        """The item with this basic code (dashes allowed), or None."""
        return self._by_code.get(code.replace("-", ""))

    def windows(self, level: str = VILLAGE) -> tuple[str, ...]:
        """The windows that have items at ``level``, in the customary window order."""
        order = VILLAGE_WINDOWS if level == VILLAGE else TOWNSHIP_WINDOWS
        present = {i.window for i in self.items if i.level == level}
        return tuple(w for w in order if w in present)

    def departments(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.department for i in self.items))

    def life_events(self) -> tuple[str, ...]:
        present = {e for i in self.items for e in i.life_events}
        return tuple(e for e in LIFE_EVENTS if e in present)

    def by_window(self, window: str, level: str = VILLAGE) -> tuple[ServiceItem, ...]:
        return tuple(i for i in self.items if i.window == window and i.level == level)

    def by_department(self, department: str) -> tuple[ServiceItem, ...]:
        return tuple(i for i in self.items if i.department == department)

    def by_life_event(self, event: str) -> tuple[ServiceItem, ...]:
        return tuple(i for i in self.items if event in i.life_events)
