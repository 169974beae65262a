"""The deployment's keys for personal data: one HMAC key (subject hashes, the `hash` operator) and one AES key
(the `encrypt` operator), the same in every service.

Set them with MLSEC_PII_HASH_KEY and MLSEC_PII_ENCRYPTION_KEY (64 hex characters each) wherever the services do
not share a home folder. Unset, the first service to need them makes both at random and writes them to
`MLSEC_HOME/secrets/pii-keys` (0600); the others read that file. Losing the file means stored hashes no longer
match new ones and encrypted values no longer decrypt: back it up with the home folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from mlsec.core.files import private_dir
from mlsec.core.settings import ConfigurationError, Settings

KEY_BYTES = 32
KEYS_FILE = Path("secrets") / "pii-keys"


@dataclass(frozen=True)
class PiiKeys:
    hash_key: bytes
    encryption_key: bytes

    def __repr__(self) -> str:  # never in a log or a traceback
        return "PiiKeys(***)"


def _parse(value: str, name: str) -> bytes:
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be {KEY_BYTES * 2} hex characters (openssl rand -hex 32)") from None
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{name} must be {KEY_BYTES * 2} hex characters (openssl rand -hex 32)")
    return key


def _from_setting(value: SecretStr | None, name: str) -> bytes | None:
    return None if value is None else _parse(value.get_secret_value(), name)


def _file_keys(path: Path) -> dict[str, str]:
    """The keys in the home folder's file, made first (exclusively, so concurrent starts agree) when missing."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            keys = {"hash_key": secrets.token_hex(KEY_BYTES), "encryption_key": secrets.token_hex(KEY_BYTES)}
            json.dump(keys, handle)
            handle.flush()
            os.fsync(handle.fileno())
    for _ in range(50):  # another process may be between its create and its write
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            time.sleep(0.02)
            continue
        if isinstance(data, dict) and {"hash_key", "encryption_key"} <= data.keys():
            return {k: str(v) for k, v in data.items()}
        break
    raise ConfigurationError(f"the PII key file {path} is unreadable: restore it from a backup or set the keys")


def load_pii_keys(settings: Settings) -> PiiKeys:
    """The keys from the settings, else from (or made in) the home folder's file."""
    hash_key = _from_setting(settings.pii_hash_key, "MLSEC_PII_HASH_KEY")
    encryption_key = _from_setting(settings.pii_encryption_key, "MLSEC_PII_ENCRYPTION_KEY")
    if hash_key is None or encryption_key is None:
        stored = _file_keys(settings.home / KEYS_FILE)
        hash_key = hash_key or _parse(stored["hash_key"], str(settings.home / KEYS_FILE))
        encryption_key = encryption_key or _parse(stored["encryption_key"], str(settings.home / KEYS_FILE))
    return PiiKeys(hash_key=hash_key, encryption_key=encryption_key)
