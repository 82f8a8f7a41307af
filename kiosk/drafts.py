"""An application being put together during a visit: the card's identity, the form, the scanned pages.

A ``Draft`` lives in the visit (``visit.form["application"]``), its scans in the visit's
private directory, so the privacy wipe takes all of it. The apply screens fill it step by
step; ``application()`` turns it into the ``kiosk.cases.Application`` that
``terminal.cases.submit`` stores. Pure logic, no Kivy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from kiosk import forms
from kiosk.cases import Applicant, Application, ScannedMaterial, Submitted
from kiosk.catalog.items import FormField, ServiceItem

KEY = "application"   # where the draft sits in ``visit.form``
PHONE_KEY = "phone"   # a phone number given earlier in the visit (the ``session.phone`` prefill)
PREVIEW_PX = 900      # the longer side of a page's preview image


@dataclass(frozen=True)
class Page:
    """One scanned page: the image sent with the case and the smaller one the screen shows."""

    image: Path
    preview: Path


class Draft:
    """What one person is applying for. ``visit`` is the ``kiosk.session.Visit`` it belongs to."""

    def __init__(self, visit, item: ServiceItem, agent: str = ""):
        self.visit = visit
        self.item = item
        self.agent = agent
        self.values: dict[str, str] = {}
        self.problems: dict[str, forms.Problem] = {}
        self.pages: list[list[Page]] = [[] for _ in item.materials]
        self.skipped: set[int] = set()    # materials the person said they need not bring
        self.submitted: Submitted | None = None
        visit.form[KEY] = self

    @classmethod
    def of(cls, visit) -> Draft | None:
        """The visit's draft, if it has one."""
        return visit.form.get(KEY) if visit is not None else None

    # -- identity and form ---------------------------------------------------------------
    @property
    def identity(self):
        return self.visit.identity

    def take_identity(self, identity) -> None:
        """The card was read: it names the applicant and fills the form's card fields."""
        self.visit.identity = identity
        self.values.update(forms.prefill(self.item.form, identity, self.visit.form.get(PHONE_KEY, "")))
        for f in self.item.form:
            if f.name in self.values:
                self.problems.pop(f.name, None)

    def forget_identity(self) -> None:
        """Another card is to be read: drop this one and what it filled in."""
        for f in self.item.form:
            if forms.from_card(f, self.identity):
                self.values.pop(f.name, None)
        self.visit.identity = None

    def field(self, name: str) -> FormField:
        return next(f for f in self.item.form if f.name == name)

    def locked(self, form_field: FormField) -> bool:
        """The field holds what the ID card says and is not typed over."""
        return forms.from_card(form_field, self.identity) and bool(self.values.get(form_field.name))

    def set(self, name: str, raw: str) -> forms.Problem | None:
        """Take what was typed for field ``name``; the problem with it (also kept in ``problems``)."""
        form_field = self.field(name)
        value, problem = forms.check(form_field, raw)
        self.values[name] = value
        if problem is None:
            self.problems.pop(name, None)
            if form_field.type == "phone" and value:
                self.visit.form[PHONE_KEY] = value
        else:
            self.problems[name] = problem
        return problem

    def check_form(self) -> bool:
        """Check every field; True when the form can be sent."""
        self.problems = forms.check_all(self.item.form, self.values)
        return not self.problems

    # -- materials -------------------------------------------------------------------------
    def new_page(self, image: Path) -> Page:
        """The page scanned to ``image``, with its preview made (slow: run it off the UI thread)."""
        return Page(image, make_preview(image, self.visit.scan_path(".preview.jpg")))

    def add_page(self, material: int, page: Page, replace: int | None = None) -> None:
        """Put ``page`` under material ``material`` (in place of page ``replace``, from 0)."""
        pages = self.pages[material]
        if replace is None:
            pages.append(page)
        else:
            pages[replace] = page
        self.skipped.discard(material)

    def skip(self, material: int) -> None:
        """The person need not bring this material (e.g. "only for those it applies to")."""
        self.pages[material].clear()
        self.skipped.add(material)

    def material_done(self, material: int) -> bool:
        return bool(self.pages[material]) or material in self.skipped

    def next_material(self) -> int | None:
        """The first material with no pages that was not skipped; None when all are done."""
        return next((i for i in range(len(self.pages)) if not self.material_done(i)), None)

    def page_count(self) -> int:
        return sum(len(p) for p in self.pages)

    # -- sending ---------------------------------------------------------------------------
    def ready(self) -> bool:
        return self.identity is not None and self.check_form() and self.next_material() is None

    def application(self) -> Application:
        """The application to submit (the form checked, every material scanned or skipped)."""
        if not self.ready():
            raise ValueError("the application is not complete")
        phone = next((self.values[f.name] for f in self.item.form if f.type == "phone" and self.values.get(f.name)), "")
        materials = tuple(ScannedMaterial(m.name, tuple(p.image for p in pages))
                          for m, pages in zip(self.item.materials, self.pages) if pages)
        return Application(self.item, Applicant.from_identity(self.identity, phone),
                           {f.name: self.values.get(f.name, "") for f in self.item.form}, materials, self.agent)


def make_preview(image: Path, out: Path) -> Path:
    """A JPEG of ``image`` at most ``PREVIEW_PX`` on its longer side, written to ``out``."""
    with Image.open(image) as page:
        page.thumbnail((PREVIEW_PX, PREVIEW_PX))
        page.convert("RGB").save(out, "JPEG", quality=80)
    return out
