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
