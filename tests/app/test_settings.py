"""Settings come from the environment, with embedded defaults that work on a fresh machine."""

from fmejira.settings import from_environment


def test_the_embedded_default_is_sqlite_in_the_instance_folder(tmp_path):
    settings = from_environment(str(tmp_path), environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/fmejira.sqlite3"


def test_postgres_urls_use_the_psycopg_driver(tmp_path):
    for url in ("postgres://u@db/x", "postgresql://u@db/x"):
        settings = from_environment(str(tmp_path), environ={"DATABASE_URL": url})
        assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/x"


def test_create_flag_goes_to_the_configured_fme_app(tmp_path):
    settings = from_environment(str(tmp_path), environ={"FMEJIRA_FME_APP_URL": "https://fme.eu/"})
    assert settings["FME_APP_URL"] == "https://fme.eu"
    assert settings["FME_CREATE_FLAG_URL"].startswith("https://fme.eu/splits/create?")
    assert "{issue_key}" in settings["FME_CREATE_FLAG_URL"]


def test_an_explicit_create_flag_url_wins(tmp_path):
    environ = {"FMEJIRA_FME_CREATE_FLAG_URL": "https://x.test/new?k={issue_key}"}
    assert (
        from_environment(str(tmp_path), environ)["FME_CREATE_FLAG_URL"]
        == environ["FMEJIRA_FME_CREATE_FLAG_URL"]
    )


def test_a_relative_instance_folder_is_taken_from_the_working_directory(tmp_path, monkeypatch):
    from fmejira import create_app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FMEJIRA_INSTANCE_PATH", "relative/instance")
    app = create_app({"SECRET_KEY_MATERIAL": None})
    assert app.instance_path == str(tmp_path / "relative" / "instance")
    assert (tmp_path / "relative" / "instance").is_dir()
