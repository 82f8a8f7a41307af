"""Broker credentials: the fleet's CA, the broker's certificate, and each terminal's account.

A terminal gets its own password (an entry in mosquitto's password file, written by
``mosquitto_passwd``), its groups as read rules in the ACL file, and optionally a client
certificate signed by the fleet's CA. Its username is its device id, which the ACL's
``%u`` patterns rely on. After a change, send the broker SIGHUP to reload the files.

    python -m fleet.credentials ca /etc/mosquitto/fleet-ca
    python -m fleet.credentials server --ca /etc/mosquitto/fleet-ca --out /etc/mosquitto/certs broker.example
    python -m fleet.credentials terminal mz-001 --groups mazhang,tier-standard \\
        --passwd-file /etc/mosquitto/fleet.passwd --acl-file /etc/mosquitto/fleet.acl \\
        --ca /etc/mosquitto/fleet-ca --out ./mz-001
    python -m fleet.credentials account fleet-manager --passwd-file ... --out ...
"""
from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleet.protocol import check_id, group_jobs_filter

CA_CERT, CA_KEY = "ca.crt", "ca.key"


@dataclass(frozen=True)
class Issued:
    """Files written for one account: hand them to the terminal, then delete them here."""

    username: str
    password_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


def write_private(path: Path, data: bytes) -> None:
    """``data`` in a file only its owner may read (0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_ca(ca_dir: Path | str, name: str = "Village kiosk fleet CA", days: int = 3650) -> Path:
    """The CA in ``ca_dir`` (made once, kept after); returns its certificate's path."""
    ca_dir = Path(ca_dir)
    if (ca_dir / CA_CERT).exists():
        return ca_dir / CA_CERT
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    write_private(ca_dir / CA_KEY, _key_pem(key))
    (ca_dir / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca_dir / CA_CERT


def sign(ca_dir: Path | str, out_dir: Path | str, name: str, *, hosts: tuple[str, ...] = (),
         client: bool = True, days: int = 730) -> tuple[Path, Path]:
    """A key and a certificate for ``name`` signed by the CA: a client's, or a server's for ``hosts``."""
    ca_dir, out_dir = Path(ca_dir), Path(out_dir)
    ca_cert = x509.load_pem_x509_certificate((ca_dir / CA_CERT).read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / CA_KEY).read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_file, key_file = out_dir / f"{name}.crt", out_dir / f"{name}.key"
    write_private(key_file, _key_pem(key))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def add_password(passwd_file: Path | str, username: str, password: str) -> None:
    """Set ``username``'s password in mosquitto's password file (created if missing)."""
    passwd_file = Path(passwd_file)
    create = [] if passwd_file.exists() else ["-c"]
    subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd_file), username, password],
                   check=True, capture_output=True, timeout=30)


def set_groups(acl_file: Path | str, kiosk: str, groups: tuple[str, ...]) -> None:
    """Let ``kiosk`` read its groups' jobs: one ``user`` block per terminal, replaced in place."""
    acl_file = Path(acl_file)
    marker = f"# terminal {kiosk}"
    lines = acl_file.read_text(encoding="utf-8").splitlines() if acl_file.exists() else []
    kept, skipping = [], False
    for line in lines:
        if line == marker:
            skipping = True
        elif skipping and not line.strip():
            skipping = False
        elif not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    if groups:
        kept += ["", marker, f"user {kiosk}", *(f"topic read {group_jobs_filter(g)}" for g in groups), ""]
    acl_file.write_text("\n".join(kept) + "\n", encoding="utf-8")


def issue_account(username: str, passwd_file: Path | str, out_dir: Path | str) -> Issued:
    """A new random password for ``username``, in the password file and in ``out_dir/<name>.password``."""
    password = secrets.token_urlsafe(24)
    add_password(passwd_file, username, password)
    password_file = Path(out_dir) / f"{username}.password"
    write_private(password_file, password.encode() + b"\n")
    return Issued(username, password_file)


def issue_terminal(kiosk: str, *, passwd_file: Path | str, acl_file: Path | str, out_dir: Path | str,
                   groups: tuple[str, ...] = (), ca_dir: Path | str | None = None) -> Issued:
    """Everything a terminal needs to reach the broker as itself."""
    check_id(kiosk, "terminal id")
    for group in groups:
        check_id(group, "group")
    issued = issue_account(kiosk, passwd_file, out_dir)
    set_groups(acl_file, kiosk, groups)
    if ca_dir is None:
        return issued
    cert_file, key_file = sign(ca_dir, out_dir, kiosk)
    return Issued(kiosk, issued.password_file, cert_file, key_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleet.credentials", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ca", help="make the fleet's CA (once)")
    p.add_argument("dir")
    p = sub.add_parser("server", help="the broker's TLS certificate")
    p.add_argument("--ca", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("hosts", nargs="+")
    for name in ("terminal", "account"):
        p = sub.add_parser(name, help="a terminal's credentials" if name == "terminal" else "another account")
        p.add_argument("username")
        p.add_argument("--passwd-file", required=True)
        p.add_argument("--out", required=True)
        if name == "terminal":
            p.add_argument("--acl-file", required=True)
            p.add_argument("--groups", default="", help="comma-separated group ids")
            p.add_argument("--ca", help="also issue a client certificate from this CA")
    args = parser.parse_args(argv)
    if args.command == "ca":
        print(make_ca(args.dir))
    elif args.command == "server":
        print(*sign(args.ca, args.out, "broker", hosts=tuple(args.hosts), client=False), sep="\n")
    elif args.command == "account":
        print(issue_account(args.username, args.passwd_file, args.out).password_file)
    else:
        groups = tuple(g for g in args.groups.split(",") if g)
        try:
            issued = issue_terminal(args.username, passwd_file=args.passwd_file, acl_file=args.acl_file,
                                    out_dir=args.out, groups=groups, ca_dir=args.ca)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(*(p for p in (issued.password_file, issued.cert_file, issued.key_file) if p), sep="\n")
    print("reload the broker (SIGHUP) to apply", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
