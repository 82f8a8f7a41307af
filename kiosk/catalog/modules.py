"""The registry of the terminal's 26 function modules in six groups (seed 003, DOMAIN.md).

Metadata only: the screens register themselves against these ids. A module not fully
offered at this terminal yet says so in one plain sentence (``not_offered``); its screen
still shows the content it has (guide, notices, form).
"""
from __future__ import annotations

from dataclasses import dataclass

from l10n import N_

# Device kinds a module may need, as the drivers' ``Device.kind``.
IDCARD, PRINTER, SCANNER, CAMERA = "idcard", "receipt_printer", "scanner", "camera"
A4_PRINTER = "a4_printer"
DEVICE_NAMES = {
    IDCARD: N_("the ID card reader"), PRINTER: N_("the receipt printer"),
    SCANNER: N_("the scanner"), CAMERA: N_("the document camera"), A4_PRINTER: N_("the A4 printer"),
}


@dataclass(frozen=True)
class Group:
    id: str
    title: str   # English msgid
    icon: str


@dataclass(frozen=True)
class Module:
    id: str
    group: str
    title: str                        # English msgid; Chinese in the catalog
    icon: str
    needs: tuple[str, ...] = ()       # device kinds it cannot serve without
    uses: tuple[str, ...] = ()        # device kinds it can do without (e.g. print → QR on screen)
    not_offered: str = ""             # msgid: what is not offered here yet; "" when fully offered

    @property
    def offered(self) -> bool:
        return not self.not_offered


GROUPS: tuple[Group, ...] = (
    Group("government", N_("Government services"), "building"),
    Group("party", N_("Party building"), "flag"),
    Group("projects", N_("Special projects"), "road"),
    Group("village", N_("Village affairs"), "home-group"),
    Group("assets", N_("Collective assets"), "bank"),
    Group("convenience", N_("Convenience services"), "hand-heart"),
)

_LATER_PAYMENT = N_("Payments are not taken at this terminal yet; please pay at the station counter or on your phone.")
_LATER_LOOKUP = N_("Live lookups are not connected at this terminal yet; please ask at the station.")
_LATER_FORM = N_("Messages are not sent from this terminal yet; please hand your note in at the station.")

MODULES: tuple[Module, ...] = (
    Module("guides", "government", N_("Service guides"), "book-open", uses=(PRINTER,)),
    Module("online", "government", N_("Online applications"), "file-send", needs=(IDCARD,),
           uses=(SCANNER, CAMERA, PRINTER)),  # apply from a related guide: "Apply here"
    Module("cases", "government", N_("My cases"), "clipboard-search", uses=(IDCARD, PRINTER, A4_PRINTER)),
    Module("method_322", "party", N_("322 front-line work method"), "account-group"),
    Module("party_affairs", "party", N_("Party affairs disclosure"), "bullhorn"),
    Module("study", "party", N_("Study corner"), "school"),
    Module("deputy_office", "party", N_("Party deputy's office"), "account-tie", not_offered=_LATER_FORM),
    Module("volunteer", "party", N_("Party volunteer activities"), "hand-heart"),
    Module("poverty_relief", "projects", N_("Targeted poverty relief"), "sprout"),
    Module("new_countryside", "projects", N_("New-countryside demonstration works"), "home-city"),
    Module("disclosure", "village", N_("Village, finance and party disclosure"), "scale-balance"),
    Module("news", "village", N_("Local news"), "newspaper"),
    Module("tourism", "village", N_("Local tourism"), "image-filter-hdr"),
    Module("legal_aid", "village", N_("Legal aid"), "gavel", uses=(PRINTER,)),
    Module("farmer_credit", "village", N_("Farmer credit"), "credit-card", needs=(IDCARD,),
           not_offered=_LATER_LOOKUP),
    Module("employment", "village", N_("Employment help"), "briefcase", uses=(PRINTER,)),
    Module("farm_insurance", "village", N_("Farm insurance"), "shield-check"),
    Module("community_voice", "village", N_("Community voice"), "forum", not_offered=_LATER_FORM),
    Module("complaints", "village", N_("Complaints, suggestions and enquiries"), "message-alert",
           not_offered=_LATER_FORM),
    Module("notices", "assets", N_("Notices"), "bell"),
    Module("tenders", "assets", N_("Tender notices"), "file-document"),
    Module("awards", "assets", N_("Award notices"), "trophy"),
    Module("traffic_fines", "convenience", N_("Traffic fine lookup"), "car", not_offered=_LATER_LOOKUP),
    Module("phone_topup", "convenience", N_("Phone top-up"), "cellphone", not_offered=_LATER_PAYMENT),
    Module("water_bill", "convenience", N_("Water bill"), "water", not_offered=_LATER_PAYMENT),
    Module("tickets", "convenience", N_("Bus and train tickets"), "bus", not_offered=_LATER_PAYMENT),
)

_BY_ID = {m.id: m for m in MODULES}


def module(module_id: str) -> Module:
    """The module registered as ``module_id``; KeyError if there is none."""
    return _BY_ID[module_id]


def modules_in(group_id: str) -> tuple[Module, ...]:
    return tuple(m for m in MODULES if m.group == group_id)


def missing_devices(mod: Module, online: set[str]) -> tuple[str, ...]:
    """The device kinds ``mod`` needs that are not in ``online``: the module cannot serve."""
    return tuple(kind for kind in mod.needs if kind not in online)
