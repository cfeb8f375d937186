import gc

from app.main import GC_YOUNG_THRESHOLD, create_app
from tests.conftest import make_settings
from tests.factories import audit_events, bearer, user_token


async def test_readyz_answers_when_migrated(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_me_is_read_and_audited(app, client):
    user, token = await user_token(app, client)
    response = await client.get("/users/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["username"] == user["username"]
    reads = await audit_events(app, action="user.read", resource_id=str(user["id"]))
    assert len(reads) == 1
    assert reads[0]["actor_id"] == user["id"]


async def test_the_service_collects_cycles_less_often_than_pythons_default(database_url):
    app = create_app(make_settings(database_url))
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's default
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_fastapi_telemetry_is_off_unless_asked_for(database_url):
    # FastAPI keeps its telemetry settings in `_telemetry`; on, each request looks up the
    # process's OpenTelemetry providers
    off = create_app(make_settings(database_url))._telemetry
    assert (off["tracing"], off["metrics"], off["logs"]) == (False, False, False)
    on = create_app(make_settings(database_url, fastapi_telemetry=True))._telemetry
    assert (on["tracing"], on["metrics"], on["logs"]) == (True, True, True)
