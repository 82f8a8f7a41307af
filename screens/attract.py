"""The attract screen: station, date and time, scrolling notices, "touch to start".

The touch that wakes the terminal only wakes it: this screen takes the whole touch,
so nothing under it on the next screen is pressed.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.queue import announcement
from l10n import N_, translate
from screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

WEEKDAYS = "一二三四五六日"
SCROLL_STEPS_PER_S = 10  # every step redraws the whole window: in software GL that is dear


class AttractScreen(BaseScreen):
    show_top_bar = False
    time_text = StringProperty("")
    date_text = StringProperty("")
    notices_text = StringProperty("")

    def on_activate(self, **kwargs: object) -> None:
        self._tick()
        self._clock = Clock.schedule_interval(self._tick, 1)
        self.notices_text = "　　".join(n.title for n in self.app.terminal.content.of_kind("notices"))
        self.ids.notices.x = self.width
        self._from_edge = True  # once laid out
        self._scrolling = Clock.schedule_interval(self._step, 1 / SCROLL_STEPS_PER_S)

    def on_deactivate(self) -> None:
        self._clock.cancel()
        self._scrolling.cancel()

    def _tick(self, *_: object) -> None:
        now = datetime.now()
        self.time_text = now.strftime("%H:%M")
        if self.app.lang == "zh_CN":
            self.date_text = f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"
        else:
            self.date_text = now.strftime("%A, %d %B %Y")

    def _step(self, dt: float) -> None:
        """Move the notices left (a pass takes at least 10 s), from the right edge again when gone."""
        label = self.ids.notices
        if self._from_edge or label.right < 0:
            label.x, self._from_edge = self.width, False
            return
        speed = (self.width + label.width) / max(10.0, label.width / 80)
        label.x = round(label.x - speed * dt)

    @staticmethod
    def call_text(lang: str, ticket) -> str:
        """The queue number called last, while the attract screen shows."""
        return "" if ticket is None else translate(N_("Now calling: {call}"), lang, call=announcement(ticket, lang))

    def on_touch_down(self, touch) -> bool:
        self.app.wake(touch)
        return True

    def on_touch_up(self, touch) -> bool:
        return True
