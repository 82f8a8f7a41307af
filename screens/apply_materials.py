"""Applying, step 3: one material at a time, scanned page by page.

For material ``index`` of the item: what it is, the way to scan it (the document camera
or the flatbed, whichever works), the progress of a scan, a preview of every page with
its number, retake a page, add a page, and "done" (or "I do not need to bring this",
for the materials only some people bring). The pages are files in the visit's private
directory; the previews are made off the UI thread and shown without Kivy's image cache,
so the privacy wipe leaves nothing behind.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from drivers.base import DeviceError
from kiosk.catalog.modules import CAMERA, SCANNER
from kiosk.drafts import Draft
from kiosk.printing import material_line
from l10n import N_, translate
from screens.apply_steps import ApplyStep, ApplySteps  # noqa: F401  (ApplySteps: kv rules)
from screens.base import BaseScreen
from screens.widgets.paging import PagedScroll  # noqa: F401  (kv rules)

log = logging.getLogger(__name__)
Builder.load_file(str(Path(__file__).with_suffix(".kv")))

SOURCES = (CAMERA, SCANNER)  # the document camera first: the page lies face up, nothing to lift
HOW = {
    CAMERA: N_("Lay the page face up under the document camera, inside the marked frame."),
    SCANNER: N_("Lift the scanner lid, lay the page face down on the glass, close the lid."),
}


class PageThumb(BoxLayout):
    """One scanned page: its preview, its number, and "retake"."""

    number = NumericProperty(1)
    source = StringProperty("")
    retaking = BooleanProperty(False)


class PageGrid(GridLayout):
    """The pages of a material, side by side."""


class ApplyMaterialsScreen(ApplyStep, BaseScreen):
    draft = ObjectProperty(None, allownone=True)
    index = NumericProperty(0)
    material = StringProperty("")      # the material's line: name, originals and copies, note
    pages = NumericProperty(0)
    retake = NumericProperty(-1)       # the page (from 0) the next scan replaces; -1: a new page
    scanning = BooleanProperty(False)
    progress = NumericProperty(0)
    error = StringProperty("")
    sources = ListProperty()           # SOURCES that are serving now
    reviewing = BooleanProperty(False)

    def on_kv_post(self, base_widget) -> None:
        self._job = 0
        self._grid = PageGrid()
        self.ids.pages.body.add_widget(self._grid)
        self.app.bind(lang=lambda *_: self._describe())

    def on_activate(self, index: int | None = None, review: bool = False, **kwargs: object) -> None:
        self._job += 1
        self.draft = Draft.of(self.app.session.visit)
        self.reviewing, self.scanning, self.error, self.retake = review, False, "", -1
        if self.draft is None or not self.draft.item.materials:
            return
        self.index = index if index is not None else (self.draft.next_material() or 0)
        self._describe()
        self._refresh_sources()
        self._show_pages()

    def on_deactivate(self) -> None:
        self._job += 1  # a scan still running is kept by the draft only if this screen is shown again
        self._grid.clear_widgets()
        self.draft, self.scanning, self.error, self.material, self.pages = None, False, "", "", 0

    def on_device_change(self, change) -> None:
        if change.kind in SOURCES:
            self._refresh_sources()

    # -- scanning -------------------------------------------------------------------------
    def scan(self, kind: str) -> None:
        device = self.app.terminal.device_of_kind(kind)
        if self.draft is None or self.scanning or device is None:
            return
        self._job += 1
        job, draft = self._job, self.draft
        self.scanning, self.progress, self.error = True, 0, ""
        try:
            future = device.scan(draft.visit.scan_path(".png"), progress=lambda pct: Clock.schedule_once(
                lambda dt: self._progress(pct, job)))
        except DeviceError as exc:
            self._scanned(None, exc, job)
            return

        def finished(f) -> None:  # on the device's thread: the preview is made here, not on the UI thread
            page, error = None, f.exception()
            if error is None:
                try:
                    page = draft.new_page(f.result().path)
                except (OSError, RuntimeError) as exc:  # an image that cannot be opened; the visit ended
                    error = exc
            Clock.schedule_once(lambda dt: self._scanned(page, error, job))

        future.add_done_callback(finished)

    def _progress(self, pct: float, job: int) -> None:
        if job == self._job:
            self.progress = pct

    def _scanned(self, page, error, job: int) -> None:
        if job != self._job:
            return
        self.scanning = False
        if error is not None:
            log.warning("scanning failed: %s", error)
            lang = self.app.lang
            reason = (f"{error.message(lang)} {error.hint(lang)}" if isinstance(error, DeviceError)
                      else translate(N_("The page could not be scanned."), lang))
            self.error = translate(N_("Could not scan: {reason}"), lang, reason=reason)
            return
        self.app.terminal.counters.count("scans")
        self.draft.add_page(self.index, page, replace=self.retake if self.retake >= 0 else None)
        self.retake = -1
        self._show_pages()

    def retake_page(self, number: int) -> None:
        """The next scan replaces page ``number`` (from 1); tapping it again cancels."""
        self.retake = -1 if self.retake == number - 1 else number - 1
        self._show_pages()

    # -- the way on ---------------------------------------------------------------------------
    def done(self) -> None:
        if self.draft is not None and self.pages:
            self._next()

    def skip(self) -> None:
        if self.draft is not None:
            self.draft.skip(self.index)
            self._next()

    def _next(self) -> None:
        following = self.draft.next_material()
        if self.reviewing:
            self.app.go_back()
        elif following is not None and following != self.index:
            self.app.go("apply_materials", index=following)
        else:
            self.app.go("apply_review")

    # -- showing it -----------------------------------------------------------------------------
    def _describe(self) -> None:
        if self.draft is not None and self.draft.item.materials:
            self.material = material_line(self.draft.item.materials[self.index], self.app.lang)

    def _refresh_sources(self) -> None:
        self.sources = [k for k in SOURCES if self.app.terminal.device_of_kind(k) is not None]

    def _show_pages(self) -> None:
        self._grid.clear_widgets()
        pages = self.draft.pages[self.index] if self.draft is not None else []
        self.pages = len(pages)
        for n, page in enumerate(pages, 1):
            thumb = PageThumb(number=n, source=str(page.preview), retaking=self.retake == n - 1)
            thumb.ids.retake.bind(on_release=lambda b, n=n: self.retake_page(n))
            self._grid.add_widget(thumb)

    @staticmethod
    def heading(lang: str, index: int, draft) -> str:
        count = len(draft.item.materials) if draft is not None else 0
        return translate(N_("Material {n} of {count}"), lang, n=index + 1, count=count)

    def status(self, lang: str, scanning: bool, progress: float, pages: int, retake: int) -> str:
        if scanning:
            return translate(N_("Scanning… {percent}%  Please do not move the page."), lang, percent=int(progress))
        if retake >= 0:
            return translate(N_("Put page {n} back, then tap a scan button to scan it again."), lang, n=retake + 1)
        if pages:
            return translate(N_("{pages} page(s) scanned. Scan the next page, or tap Done."), lang, pages=pages)
        return translate(N_("No page scanned yet."), lang)

    @staticmethod
    def how(lang: str, sources: list) -> str:
        if not sources:
            return translate(N_("Neither the document camera nor the scanner is working just now. "
                                "Ask the station staff to scan the material, or tap \"I do not need to bring this\" "
                                "if it does not apply to you."), lang)
        return "\n".join(translate(HOW[k], lang) for k in sources)
