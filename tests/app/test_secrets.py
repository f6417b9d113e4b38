"""Secrets at rest: encrypted in the database, never in responses or logs, rotatable."""

import logging

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from fmejira import create_app, crypto
from fmejira.extensions import db
from fmejira.models import Tenant
from fmejira.schema import upgrade
from tests.conftest import _settings
from tests.support import make_tenant


def raw_secret(tenant_id: int) -> str:
    column = sa.type_coerce(Tenant.__table__.c.shared_secret, sa.Text)
    return db.session.execute(sa.select(column).where(Tenant.id == tenant_id)).scalar_one()


def test_shared_secret_is_encrypted_in_the_database(app):
    tenant = make_tenant(shared_secret="plain-shared-secret-value-0123456789")
    stored = raw_secret(tenant.id)
    assert "plain-shared-secret" not in stored
    assert crypto.box().decrypt(stored) == "plain-shared-secret-value-0123456789"


def test_repr_never_shows_the_secret(app):
    tenant = make_tenant(shared_secret="plain-shared-secret-value-0123456789")
    assert "plain-shared" not in repr(tenant)


def test_a_generated_key_file_is_private(tmp_path):
    create_app({"SECRET_KEY_MATERIAL": None}, instance_path=str(tmp_path))
    key_file = tmp_path / crypto.KEY_FILE_NAME
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0


def test_malformed_key_material_is_a_clear_error(tmp_path):
    with pytest.raises(crypto.SecretKeyError, match="Fernet keys"):
        create_app({"SECRET_KEY_MATERIAL": "not-a-key"}, instance_path=str(tmp_path))


def test_rotation_with_environment_keys(app, database_url, tmp_path):
    tenant = make_tenant(shared_secret="secret-under-the-old-key-0123456789")
    old_token = raw_secret(tenant.id)
    new_key = Fernet.generate_key().decode()
    old_key = app.config["SECRET_KEY_MATERIAL"]
    rotated = create_app(
        _settings(database_url, SECRET_KEY_MATERIAL=f"{new_key},{old_key}"),
        instance_path=str(tmp_path / "rotated"),
    )
    result = rotated.test_cli_runner().invoke(args=["fmejira", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 1 secret" in result.output
    new_token = raw_secret(tenant.id)
    assert new_token != old_token
    assert (
        Fernet(new_key.encode()).decrypt(new_token.encode())
        == b"secret-under-the-old-key-0123456789"
    )
    crypto.init_box(crypto.SecretBox([new_key.encode()]))  # the old key can now be dropped
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).shared_secret == "secret-under-the-old-key-0123456789"


def test_rotation_of_the_instance_key_file(tmp_path):
    url = "sqlite:///" + str(tmp_path / "db.sqlite3")
    instance = tmp_path / "instance"
    app = create_app(_settings(url, SECRET_KEY_MATERIAL=None), instance_path=str(instance))
    with app.app_context():
        upgrade()
        tenant = make_tenant(shared_secret="secret-under-the-file-key-0123456")
        old_keys = crypto.parse_keys((instance / crypto.KEY_FILE_NAME).read_text())
        result = app.test_cli_runner().invoke(args=["fmejira", "rotate-keys", "--generate"])
        assert result.exit_code == 0, result.output
        new_keys = crypto.parse_keys((instance / crypto.KEY_FILE_NAME).read_text())
        assert len(new_keys) == 1 and new_keys != old_keys
        crypto.init_box(crypto.SecretBox(new_keys))
        db.session.expire_all()
        assert (
            db.session.get(Tenant, tenant.id).shared_secret == "secret-under-the-file-key-0123456"
        )
        db.session.remove()
        db.engine.dispose()


def test_install_never_logs_the_secret(connect_app, client, key_server, caplog):
    from tests.connect.test_lifecycle import body, post_install

    caplog.set_level(logging.DEBUG)
    post_install(client, key_server)
    assert body()["sharedSecret"] not in caplog.text
