"""The ``kiosk`` command.

Exit codes: 0 done; 1 a device error; 2 bad usage or config; 3 no card or timed out.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from drivers.base import DeviceError, DeviceTimeout, StatusChange
from kiosk import config as config_mod
from kiosk.devices import DeviceRow, Devices
from l10n import LANGUAGES, N_, translate

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_TIMEOUT = 0, 1, 2, 3

IDENTITY_LABELS = {
    "name": N_("Name"), "gender": N_("Gender"), "nation": N_("Ethnic group"),
    "birth_date": N_("Date of birth"), "address": N_("Address"), "id_number": N_("ID number"),
    "authority": N_("Issuing authority"), "valid_from": N_("Valid from"), "valid_to": N_("Valid to"),
    "card_type": N_("Card type"),
}
CARD_TYPE_LABELS = {
    "resident": N_("Resident ID card"),
    "hmt_residence": N_("Residence permit for Hong Kong, Macao and Taiwan residents"),
    "foreign_permanent": N_("Foreigner's permanent residence card"),
}
STATUS_LABELS = {
    "online": N_("online"), "busy": N_("busy"), "offline": N_("offline"),
    "hardware_error": N_("hardware error"), "no_device": N_("no device"),
}


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C ends watch/demo, even in background jobs
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # the command line is ours, not Kivy's
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
        from kiosk.demo import run_demo
        return run_demo(Path(args.run_dir), _lang(args, None), console=args.console)
    if getattr(args, "standalone", None):  # needs no terminal config
        return args.standalone(args)
    try:
        cfg = config_mod.load(config_mod.config_path(args.config))
    except config_mod.ConfigError as exc:
        print(exc.message(_lang(args, None)), file=sys.stderr)
        return EXIT_USAGE
    lang = _lang(args, cfg)
    try:
        return args.handler(args, cfg, lang)
    except DeviceTimeout as exc:
        print(f"{exc.message(lang)} {exc.hint(lang)}", file=sys.stderr)
        return EXIT_TIMEOUT
    except DeviceError as exc:
        print(f"{exc.message(lang)} {exc.hint(lang)}", file=sys.stderr)
        return EXIT_ERROR


def _lang(args: argparse.Namespace, cfg: config_mod.Config | None) -> str:
    return args.lang or (cfg.terminal.language if cfg else "zh_CN")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Village self-service terminal")
    parser.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the demo config)")
    parser.add_argument("--lang", choices=LANGUAGES, help="language of messages (default: the config's)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="start the simulated devices and watch them")
    demo.add_argument("--run-dir", default=str(config_mod.DEMO_RUN_DIR))
    demo.add_argument("--console", action="store_true", help="the device console, not the app")

    run = commands.add_parser("run", help="the terminal's touch-screen app")
    run.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    run.add_argument("--orientation", choices=("landscape", "portrait"),
                     help="default: the config's [display] orientation")
    run.set_defaults(handler=cmd_run)

    shots = commands.add_parser("screenshots", help="render every screen to PNG files and audit them")
    shots.add_argument("--out", required=True, type=Path)
    shots.add_argument("--orientation", choices=("landscape", "portrait"), default="landscape")
    shots.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS,
                       help="language of the screens (default: the config's)")
    shots.set_defaults(handler=cmd_screenshots)

    devices = commands.add_parser("devices", help="the terminal's devices").add_subparsers(
        dest="devices_command", required=True)
    p = devices.add_parser("list", help="each device's status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)
    p = devices.add_parser("read-id", help="read a resident ID card")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S")
    p.add_argument("--device", help="reader name (default: the first ID-card reader)")
    p.set_defaults(handler=cmd_read_id)
    p = devices.add_parser("print-test", help="print a test page")
    p.add_argument("name")
    p.set_defaults(handler=cmd_print_test)
    p = devices.add_parser("scan", help="scan a page to an image file")
    p.add_argument("name")
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(handler=cmd_scan)
    p = devices.add_parser("watch", help="print status changes as they happen (Ctrl-C ends)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_watch)

    outbox = commands.add_parser("outbox", help="what waits to reach the platform").add_subparsers(
        dest="outbox_command", required=True)
    p = outbox.add_parser("status", help="pending, delivering, delivered and failed messages; the oldest pending")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_outbox_status)
    p = commands.add_parser("provision-key", help="make the key that seals personal data at rest (once)")
    p.add_argument("--path", help="default: the config's [store] key_file")
    p.set_defaults(handler=cmd_provision_key)

    p = commands.add_parser("upstream-sandbox", help="a stand-in for the government platform (tests, demo)")
    p.add_argument("--listen", required=True, type=_host_port, metavar="HOST:PORT", help="port 0: any free port")
    p.add_argument("--db", required=True, type=Path, help="its SQLite file (created if missing)")
    p.add_argument("--pace", type=float, default=30.0, metavar="S", help="seconds per step of a case (default 30)")
    p.add_argument("--catalog", type=Path, help="the catalog it serves (default: the bundled one)")
    p.add_argument("--cert", type=Path, help="serve HTTPS with this certificate chain (PEM)")
    p.add_argument("--key", type=Path, help="the certificate's private key (PEM)")
    p.set_defaults(standalone=cmd_upstream_sandbox)
    p = commands.add_parser("upstream-fault", help="switch faults of a running upstream sandbox")
    p.add_argument("--sandbox", required=True, metavar="URL", help="e.g. http://127.0.0.1:8700")
    p.add_argument("--delay", type=float, metavar="S", help="answer every API call S seconds late")
    p.add_argument("--error-rate", type=float, metavar="R", help="this share (0-1) of API calls get a 503")
    p.add_argument("--hang", action=argparse.BooleanOptionalAction, help="accept API calls but never answer")
    p.add_argument("--outage", type=float, metavar="S", help="refuse connections for S seconds")
    p.add_argument("--clear", action="store_true", help="every fault off first")
    p.set_defaults(standalone=cmd_upstream_fault)
    return parser


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host.strip("[]"), int(port)


def cmd_run(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    from screens.run import run
    return run(cfg, windowed=args.windowed, orientation=args.orientation or cfg.display.orientation)


def cmd_screenshots(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    from screens.screenshots import take_screenshots
    findings = take_screenshots(args.out, args.orientation, lang)
    for finding in findings:
        print(finding, file=sys.stderr)
    return EXIT_ERROR if findings else EXIT_OK


def cmd_list(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    with Devices(cfg) as devices:
        rows = devices.refresh_all()
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
    else:
        print(device_table(rows, lang))
    return EXIT_OK


def device_table(rows: list[DeviceRow], lang: str) -> str:
    """The devices as an aligned table, status in ``lang``."""
    head = [translate(h, lang) for h in (N_("Device"), N_("Kind"), N_("Driver"), N_("Status"), N_("Detail"))]
    body = [[r.name, r.kind, r.driver, translate(STATUS_LABELS[r.state.status.value], lang),
             _detail(r.state.detail)] for r in rows]
    widths = [max(_width(c) for c in col) for col in zip(head, *body)]
    return "\n".join("  ".join(c + " " * (w - _width(c)) for c, w in zip(line, widths)).rstrip()
                     for line in [head, *body])


def _detail(detail) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items() if v)


def describe_change(change: StatusChange, lang: str) -> str:
    """One line for a status change: device, new status, media detail."""
    status = translate(STATUS_LABELS[change.new.status.value], lang)
    return f"{change.device}: {status} {_detail(change.new.detail)}".rstrip()


def identity_lines(fields: dict[str, str], lang: str) -> list[str]:
    """An identity's fields as labelled lines, in ``lang``."""
    shown = {**fields, "card_type": translate(CARD_TYPE_LABELS[fields["card_type"]], lang)}
    return [f"{translate(label, lang)}: {shown[key]}" for key, label in IDENTITY_LABELS.items()]


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _device(devices: Devices, name: str | None, kind: str | None, needs: str, lang: str):
    """The device named ``name`` (or the first of ``kind``) that has method ``needs``."""
    try:
        device = devices[name] if name else devices.of_kind(kind)[0]
    except (KeyError, IndexError):
        raise SystemExit(_usage(translate(N_("no such device: {name}"), lang, name=name or kind)))
    if not hasattr(device, needs):
        raise SystemExit(_usage(translate(N_("device {name} cannot do this"), lang, name=device.name)))
    return device


def _usage(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_USAGE


def cmd_read_id(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    with Devices(cfg) as devices:
        reader = _device(devices, args.device, "idcard", "read_identity", lang)
        identity = reader.read_identity(timeout=args.timeout).result()
    fields = identity.as_dict()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        print("\n".join(identity_lines(fields, lang)))
    return EXIT_OK


def cmd_print_test(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    with Devices(cfg) as devices:
        printer = _device(devices, args.name, None, "print_test_page", lang)
        printer.refresh().result()
        result = printer.print_test_page().result()
    print(translate(N_("Test page printed: {result}"), lang, result=result))
    return EXIT_OK


def cmd_scan(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    with Devices(cfg) as devices:
        scanner = _device(devices, args.name, None, "scan", lang)
        scanner.refresh().result()
        result = scanner.scan(args.out, progress=lambda pct: print(f"\r{pct:3.0f}%", end="", flush=True)).result()
    print()
    print(translate(N_("Scanned to {path}"), lang, path=result.path))
    return EXIT_OK


def cmd_watch(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    def show(change: StatusChange) -> None:
        if args.json:
            print(json.dumps({"device": change.device, "kind": change.kind, "changed": sorted(change.changed),
                              **change.new.as_dict()}, ensure_ascii=False), flush=True)
        else:
            print(describe_change(change, lang), flush=True)

    try:
        with Devices(cfg) as devices:
            for row in devices.refresh_all():
                show(StatusChange(row.name, row.kind, row.state, row.state))
            devices.subscribe(show)
            devices.start()
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


OUTBOX_LABELS = {"pending": N_("Pending"), "delivering": N_("Delivering"), "delivered": N_("Delivered"),
                 "failed": N_("Failed")}


def cmd_outbox_status(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    from kiosk.outbox import STATES, status
    from kiosk.store import Store
    if cfg.store.db_path.exists():
        store = Store(cfg.store.dir)
        figures = status(store)
        store.close()
    else:  # nothing was ever queued here
        figures = {**dict.fromkeys(STATES, 0), "oldest_pending_age_s": None}
    if args.json:
        print(json.dumps(figures))
        return EXIT_OK
    for state, label in OUTBOX_LABELS.items():
        print(f"{translate(label, lang)}: {figures[state]}")
    age = figures["oldest_pending_age_s"]
    print(translate(N_("Oldest pending: {age}"), lang,
                    age=translate(N_("none"), lang) if age is None else translate(N_("{s} s ago"), lang, s=round(age))))
    return EXIT_OK


def cmd_provision_key(args: argparse.Namespace, cfg: config_mod.Config, lang: str) -> int:
    from kiosk.sealed import KeyFileError, provision_key
    try:
        path = provision_key(args.path or cfg.store.key_file)
    except (KeyFileError, OSError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    print(translate(N_("Key made: {path} (only its owner may read it)"), lang,
                    path=path))
    return EXIT_OK


def cmd_upstream_sandbox(args: argparse.Namespace) -> int:
    from kiosk.catalog.errors import CatalogError
    from kiosk.upstream.sandbox.server import serve  # FastAPI and uvicorn: only here, never in the app
    if args.pace < 0 or bool(args.cert) != bool(args.key):
        print("--pace must be 0 or more; --cert and --key go together", file=sys.stderr)
        return EXIT_USAGE
    host, port = args.listen
    try:
        return serve(host, port, args.db, args.pace, **({"catalog": args.catalog} if args.catalog else {}),
                     cert=args.cert, key=args.key)
    except (OSError, CatalogError) as exc:  # the port is taken, a file cannot be read, a bad catalog
        print(f"upstream-sandbox: {exc}", file=sys.stderr)
        return EXIT_ERROR


def cmd_upstream_fault(args: argparse.Namespace) -> int:
    from kiosk.upstream.sandbox.process import admin
    settings = {"delay_s": args.delay, "error_rate": args.error_rate, "hang": args.hang, "outage_s": args.outage,
                "clear": args.clear}
    try:
        print(json.dumps(admin(args.sandbox, "POST", "/admin/faults",
                               {k: v for k, v in settings.items() if v is not None})))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
