"""Names the dashboard shows for the manager's values: alert rules, job ops, roles, media states.

Values without a name here fall back to ``fleet.kioskctl_view.WORDS`` (states, statuses,
tiers), then to the value itself.
"""
from __future__ import annotations

from l10n import N_

RULES = {"offline": N_("Offline over 5 minutes"), "paper": N_("Paper low or out"),
         "card_reader": N_("Card reader fault"), "disk_low": N_("Disk space low"),
         "outbox": N_("Cases not being sent")}
OPS = {"reboot": N_("Reboot"), "restart_app": N_("Restart the app"), "maintenance": N_("Maintenance mode"),
       "screenshot": N_("Screenshot"), "set_config": N_("Change settings"), "push_content": N_("Push content"),
       "update": N_("Software update"), "collect_logs": N_("Collect logs")}
# What an op's args look like, to start the form with (JSON text).
OP_ARGS = {"maintenance": '{"on": true}', "set_config": '{"fleet": {"health_interval_s": 30}}',
           "push_content": '{"sha256": ""}', "update": '{"version": ""}', "collect_logs": '{"lines": 500}'}
OTHER = {"viewer": N_("viewer"), "operator": N_("operator"), "technician": N_("technician"),
         "ok": N_("normal"), "near_end": N_("nearly out"), "out": N_("out"), "present": N_("present"),
         "absent": N_("absent"), "closed": N_("closed"), "none": N_("none"), "idle": N_("idle"),
         "device": N_("terminal"), "group": N_("group")}
DETAIL_KEYS = {"paper": N_("paper"), "cover": N_("cover"), "card": N_("card"), "reader": N_("reader"),
               "error": N_("error"), "queue_state": N_("print queue"), "message": N_("message"),
               "pending": N_("cases waiting"), "since": N_("since"), "kind": N_("kind"), "status": N_("status"),
               "state": N_("state"), "disk_free_mb": N_("free disk (MB)"), "on": N_("on"),
               "restarted": N_("restarted"), "code": N_("code"), "reason": N_("reason")}
NOTICES = {"acknowledged": N_("The alert is acknowledged."), "resolved": N_("The alert is resolved."),
           "already": N_("Someone else has dealt with this alert already."),
           "signed_out": N_("You are signed out.")}
