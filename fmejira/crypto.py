"""Secrets at rest: shared secrets and FME keys are stored Fernet-encrypted.

Keys come from ``FMEJIRA_SECRET_KEY`` (comma-separated, newest first) or, for the embedded
default, from a key file generated in the instance folder. Every key in the list decrypts; only
the first encrypts, which is what makes rotation a two-step, no-downtime affair: put the new key
first, run ``flask fmejira rotate-keys``, then drop the old key.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE_NAME = "secret.keys"
DECRYPTED_CACHE_SIZE = 4096


class SecretKeyError(RuntimeError):
    """The configured key material is missing or malformed."""


class SecretBox:
    """Encrypts and decrypts strings with the app's keys (MultiFernet)."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise SecretKeyError("no encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise SecretKeyError(
                "FMEJIRA_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
            ) from exc
        # Every Jira request loads its tenant's secret: remember recent plaintexts by their
        # ciphertext (bounded, per keyring) instead of paying two HMACs and an AES pass each time.
        self.decrypt = functools.lru_cache(maxsize=DECRYPTED_CACHE_SIZE)(self._decrypt)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def _decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the primary key."""
        return self._fernet.rotate(token.encode()).decode()


def parse_keys(material: str) -> list[bytes]:
    return [
        part.strip().encode() for part in material.replace("\n", ",").split(",") if part.strip()
    ]


def key_file(instance_path: str) -> Path:
    return Path(instance_path) / KEY_FILE_NAME


def load_or_create_keys(material: str | None, instance_path: str) -> list[bytes]:
    """The configured keys; without configuration, the instance key file (created if absent)."""
    if material:
        return parse_keys(material)
    path = key_file(instance_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
    return parse_keys(path.read_text())


def prepend_key_file(instance_path: str) -> None:
    """Put a fresh primary key at the top of the instance key file (the old ones still decrypt)."""
    path = key_file(instance_path)
    old = path.read_text() if path.exists() else ""
    path.write_text(Fernet.generate_key().decode() + "\n" + old)
    path.chmod(0o600)


def trim_key_file(instance_path: str) -> None:
    """Keep only the primary key once every row has been re-encrypted under it."""
    path = key_file(instance_path)
    primary = parse_keys(path.read_text())[0]
    path.write_text(primary.decode() + "\n")


def fingerprint(secret: str) -> str:
    """A lookup hash for a high-entropy secret such as an FME API key (never reversible)."""
    return hashlib.sha256(secret.encode()).hexdigest()


_box: SecretBox | None = None


def init_box(box: SecretBox) -> None:
    global _box
    _box = box


def box() -> SecretBox:
    if _box is None:
        raise SecretKeyError("the secret box is not initialised; create the app first")
    return _box


class EncryptedText(sa.TypeDecorator):
    """A text column whose value is encrypted before it reaches the database."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else box().encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else box().decrypt(value)


def encrypted_columns(metadata: sa.MetaData):
    """Every (table, column) that holds an encrypted secret, for rotation."""
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table, column


def rotate_all(session, metadata: sa.MetaData) -> int:
    """Re-encrypt every stored secret under the primary key; returns the number of values."""
    count = 0
    for table, column in encrypted_columns(metadata):
        pk = next(iter(table.primary_key.columns))
        raw = sa.type_coerce(column, sa.Text)
        rows = session.execute(sa.select(pk, raw).where(column.isnot(None))).all()
        for row_id, token in rows:
            session.execute(
                sa.update(table)
                .where(pk == row_id)
                .values({column.name: sa.type_coerce(box().rotate(token), sa.Text)})
            )
            count += 1
    return count
