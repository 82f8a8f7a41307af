"""The identity read from a resident ID card, its 256-byte text block, and ID checks.

Layout per ../shared/spec/id-card-reader.md (GA 490): UTF-16LE fields padded with
spaces; byte 248 tells the card type. The foreigner's permanent residence card ('I')
has its own field order (taken from public implementations, not the standard text).
Decoding is strict: anything that does not fit raises ``InvalidCardData``, so a
damaged block never becomes a wrong ``Identity``.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

from drivers.base import ProtocolError
from l10n import N_

TEXT_SIZE = 256
LONG_TERM = "长期"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
GENDERS = {"1": "男", "2": "女"}
CARD_TYPES = {"J": "hmt_residence", "I": "foreign_permanent"}  # byte 248; else 'resident'

_NATION_NAMES = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 "
    "纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 "
    "德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
NATIONS: dict[str, str] = {f"{i:02d}": f"{n}族" for i, n in enumerate(_NATION_NAMES, 1)}
NATIONS.update({"97": "其他", "98": "外国血统中国籍人士"})
NATION_CODES = {name: code for code, name in NATIONS.items()}

# (field, byte offset, byte length) of the resident ID card and the HMT residence permit
RESIDENT_FIELDS = (
    ("name", 0, 30), ("gender", 30, 2), ("nation", 32, 4), ("birth_date", 36, 16),
    ("address", 52, 70), ("id_number", 122, 36), ("authority", 158, 30),
    ("valid_from", 188, 16), ("valid_to", 204, 16),
)
# the foreigner's permanent residence card (2017 layout)
FOREIGN_FIELDS = (
    ("name_en", 0, 120), ("gender", 120, 2), ("id_number", 122, 30), ("nation", 152, 6),
    ("name", 158, 30), ("valid_from", 188, 16), ("valid_to", 204, 16), ("birth_date", 220, 16),
    ("version", 236, 4), ("authority", 240, 8),
)
_FOREIGN_NUMBER = re.compile(r"[A-Z]{3}\d{12}")
_COUNTRY = re.compile(r"[A-Z]{3}")


class InvalidCardData(ProtocolError):
    """The card's text block does not decode to a valid identity."""


def _bad(field: str) -> InvalidCardData:
    return InvalidCardData("idcard.bad_data", N_("The ID card's data is damaged ({field})."), field=field)


@dataclass(frozen=True)
class Identity:
    """What a card says about its holder. ``photo`` is the raw WLT image."""

    name: str
    gender: str  # 男 / 女
    nation: str  # GB 3304 name; '' on an HMT permit; ISO 3166 alpha-3 on a foreign card
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_to: date | None  # None: 长期, no expiry
    card_type: str = "resident"  # 'resident' | 'hmt_residence' | 'foreign_permanent'
    photo: bytes = b""
    name_en: str = ""  # foreign card only

    def as_dict(self) -> dict[str, str]:
        """The JSON shape of ``kiosk devices read-id --json`` (no photo)."""
        d = asdict(self)
        return {
            "id_number": d["id_number"], "name": d["name"], "gender": d["gender"],
            "nation": d["nation"], "birth_date": self.birth_date.isoformat(),
            "address": d["address"], "authority": d["authority"],
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else LONG_TERM,
            "card_type": d["card_type"],
        }


def check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def is_valid_id_number(id_number: str) -> bool:
    """True if ``id_number`` is 17 digits plus the right check character."""
    return (len(id_number) == 18 and id_number[:17].isascii() and id_number[:17].isdigit()
            and check_digit(id_number[:17]) == id_number[17])


def masked_id(id_number: str) -> str:
    """The number with all but the first six and last four characters hidden."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def decode_text(block: bytes, photo: bytes = b"") -> Identity:
    """The ``Identity`` in a 256-byte text block; ``InvalidCardData`` if it is not valid."""
    if len(block) != TEXT_SIZE:
        raise _bad("length")
    card_type = CARD_TYPES.get(chr(block[248]) if block[249] == 0 else "", "resident")
    if card_type == "foreign_permanent":
        return _decode_foreign(block, photo)
    f = {name: _field(block, name, start, size) for name, start, size in RESIDENT_FIELDS}
    if card_type == "hmt_residence" and f["nation"] == "":
        nation = ""
    elif f["nation"] in NATIONS:
        nation = NATIONS[f["nation"]]
    else:
        raise _bad("nation")
    birth = _date(f["birth_date"], "birth_date")
    number = f["id_number"]
    if not is_valid_id_number(number):
        raise _bad("id_number")
    if number[6:14] != f["birth_date"] or int(number[16]) % 2 != (f["gender"] == "1"):
        raise _bad("id_number")  # the number encodes the birth date and the gender
    return Identity(
        name=_required(f, "name"), gender=_gender(f["gender"]), nation=nation, birth_date=birth,
        address=_required(f, "address"), id_number=number, authority=_required(f, "authority"),
        valid_from=_date(f["valid_from"], "valid_from"), valid_to=_valid_to(f["valid_to"]),
        card_type=card_type, photo=photo,
    )


def _decode_foreign(block: bytes, photo: bytes) -> Identity:
    f = {name: _field(block, name, start, size) for name, start, size in FOREIGN_FIELDS}
    if not _FOREIGN_NUMBER.fullmatch(f["id_number"]) or not _COUNTRY.fullmatch(f["nation"]):
        raise _bad("id_number")
    if not (f["name"] or f["name_en"]):
        raise _bad("name")
    return Identity(
        name=f["name"] or f["name_en"], gender=_gender(f["gender"]), nation=f["nation"],
        birth_date=_date(f["birth_date"], "birth_date"), address="", id_number=f["id_number"],
        authority=_required(f, "authority"), valid_from=_date(f["valid_from"], "valid_from"),
        valid_to=_valid_to(f["valid_to"]), card_type="foreign_permanent", photo=photo,
        name_en=f["name_en"],
    )


def _field(block: bytes, name: str, start: int, size: int) -> str:
    try:
        text = block[start:start + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise _bad(name) from None
    text = text.rstrip(" ")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 for c in text):
        raise _bad(name)
    return text


def _required(fields: dict[str, str], name: str) -> str:
    if not fields[name]:
        raise _bad(name)
    return fields[name]


def _gender(code: str) -> str:
    if code not in GENDERS:
        raise _bad("gender")
    return GENDERS[code]


def _date(text: str, name: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise _bad(name)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _bad(name) from None


def _valid_to(text: str) -> date | None:
    return None if text == LONG_TERM else _date(text, "valid_to")


def encode_text(identity: Identity) -> bytes:
    """The 256-byte text block of ``identity`` (used by the simulator)."""
    gender = {v: k for k, v in GENDERS.items()}[identity.gender]
    values = {
        "name": identity.name, "name_en": identity.name_en, "gender": gender,
        "birth_date": f"{identity.birth_date:%Y%m%d}", "address": identity.address,
        "id_number": identity.id_number, "authority": identity.authority,
        "valid_from": f"{identity.valid_from:%Y%m%d}",
        "valid_to": f"{identity.valid_to:%Y%m%d}" if identity.valid_to else LONG_TERM,
        "nation": NATION_CODES.get(identity.nation, identity.nation), "version": "",
    }
    foreign = identity.card_type == "foreign_permanent"
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    for name, start, size in FOREIGN_FIELDS if foreign else RESIDENT_FIELDS:
        raw = values[name].encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} is too long for the card: {values[name]!r}")
        block[start:start + len(raw)] = raw
    marker = {v: k for k, v in CARD_TYPES.items()}.get(identity.card_type)
    if marker:
        block[248:250] = marker.encode("utf-16-le")
    return bytes(block)
