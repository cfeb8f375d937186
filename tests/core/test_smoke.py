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


def test_fastapi_layers_with_nothing_to_do_are_left_out(database_url):
    """Its exception telemetry while its telemetry is off, its body limit while none is set:
    each a coroutine every request would pass through for nothing."""
    from fastapi._body_limit import AppBodyLimitMiddleware
    from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
    from starlette.middleware.errors import ServerErrorMiddleware

    from app.core.middleware import RequestContextMiddleware

    def layers(app):
        found, layer = [], app.build_middleware_stack()
        while layer is not None:
            found.append(type(layer))
            layer = getattr(layer, "app", None)
        return found

    off = layers(create_app(make_settings(database_url)))
    assert off[:2] == [ServerErrorMiddleware, RequestContextMiddleware]
    assert AppBodyLimitMiddleware not in off and ExceptionTelemetryMiddleware not in off
    on = layers(create_app(make_settings(database_url, fastapi_telemetry=True)))
    assert on[:3] == [ServerErrorMiddleware, ExceptionTelemetryMiddleware, RequestContextMiddleware]
