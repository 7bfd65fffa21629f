from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"ok", "degraded"}  # "degraded": no switch answers in this test
    assert body["database"]["ok"] is True


def test_healthz_is_503_when_the_database_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    def broken_cursor(*args: object, **kwargs: object) -> object:
        raise connection.Database.OperationalError("down")  # type: ignore[attr-defined]

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {
        "vendor": connection.vendor,
        "ok": False,
        "error": "OperationalError",
        "ms": response.json()["database"]["ms"],
    }
