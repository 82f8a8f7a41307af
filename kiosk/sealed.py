"""Personal data sealed at rest: AES-256-GCM with the terminal's key.

The key is 32 random bytes in a file only its owner may read, made once at provisioning
(``kiosk provision-key``). A sealed value is ``version (1) + nonce (12, random) +
ciphertext + tag``; its associated data names the row and field it belongs to, so a
value copied into another row or field does not open. Anything that does not open —
a wrong key, a damaged or moved value — raises ``SealError``: never a silent wrong value.

``cryptography`` is imported when a ``Sealer`` is made, not with this module.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path
from typing import Any

KEY_SIZE = 32
NONCE_SIZE = 12
VERSION = b"\x01"


class KeyFileError(Exception):
    """The key file is missing, has the wrong size, or others may read it."""


class SealError(Exception):
    """A sealed value does not open: wrong key, damaged, or not the row and field it claims."""


def provision_key(path: Path | str) -> Path:
    """Make a new key file at ``path`` (mode 0600); refuses to replace an existing one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key file is already there; the data sealed with it would be lost") from None
    with os.fdopen(fd, "wb") as f:
        f.write(os.urandom(KEY_SIZE))
        f.flush()
        os.fsync(f.fileno())
    _fsync_dir(path.parent)
    return path


def load_key(path: Path | str) -> bytes:
    """The key in ``path``; ``KeyFileError`` unless only its owner (this user or root) may read it."""
    path = Path(path)
    try:
        info = path.stat()
        key = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no key file; make one with `kiosk provision-key --path {path}`") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: group or others may use the key file (mode {stat.S_IMODE(info.st_mode):o}); "
                           f"refusing to start — `chmod 600 {path}`")
    if info.st_uid not in (0, os.geteuid()):
        raise KeyFileError(f"{path}: the key file belongs to user {info.st_uid}, not to this user or root")
    if len(key) != KEY_SIZE:
        raise KeyFileError(f"{path}: a key file holds {KEY_SIZE} bytes, this one {len(key)}")
    return key


class Sealer:
    """Seals and opens values with one key; ``where`` (e.g. ``"cases/REF/applicant"``) binds each."""

    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != KEY_SIZE:
            raise KeyFileError(f"a key holds {KEY_SIZE} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self._lookup_key = hmac.new(key, b"kiosk lookup tag", hashlib.sha256).digest()

    @classmethod
    def from_file(cls, path: Path | str) -> Sealer:
        return cls(load_key(path))

    def seal(self, data: bytes, where: str) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return VERSION + nonce + self._aead.encrypt(nonce, data, where.encode())

    def open(self, blob: bytes, where: str) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not isinstance(blob, bytes) or len(blob) < 1 + NONCE_SIZE + 16 or blob[:1] != VERSION:
            raise SealError(f"{where}: not a sealed value")
        try:
            return self._aead.decrypt(blob[1:1 + NONCE_SIZE], blob[1 + NONCE_SIZE:], where.encode())
        except InvalidTag:
            raise SealError(f"{where}: does not open — a wrong key, or the value is damaged or moved") from None

    def seal_json(self, value: Any, where: str) -> bytes:
        return self.seal(json.dumps(value, ensure_ascii=False).encode(), where)

    def open_json(self, blob: bytes, where: str) -> Any:
        try:
            return json.loads(self.open(blob, where))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SealError(f"{where}: opened, but is not JSON: {exc}") from None

    def tag(self, value: str) -> str:
        """A keyed digest of ``value`` (an ID number) to look rows up by without storing it."""
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()

    def write_file(self, path: Path, data: bytes, where: str) -> None:
        """``data`` sealed into ``path``, on disk (fsynced) before this returns."""
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(self.seal(data, where))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def read_file(self, path: Path, where: str) -> bytes:
        try:
            return self.open(path.read_bytes(), where)
        except OSError as exc:
            raise SealError(f"{where}: cannot read {path}: {exc}") from None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
