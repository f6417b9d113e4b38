from fmejira import create_app


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_checks_the_database(client):
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}


def test_readyz_fails_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none",
            "SECRET_KEY_MATERIAL": None,
        },
        instance_path=str(tmp_path),
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.get("/lifecycle/installed")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
