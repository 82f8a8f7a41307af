"""The fleet dashboard: server-rendered pages for county operators, on a desktop or a tablet.

``router`` is mounted by ``fleet.api.create_app`` beside the JSON API: pages at ``/``,
``/devices/…``, ``/alerts``, ``/stations``, ``/jobs``, sign-in at ``/login``. Templates
(Jinja2) and one CSS and one small JS file are served from this package, nothing from
elsewhere. Pages in ``pages``, form actions in ``forms``, SVG charts in ``charts``.
"""
from __future__ import annotations

from fastapi import APIRouter

from fleet.web import forms, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(forms.router)
