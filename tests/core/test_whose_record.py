"""Whose record it is: every application, policy, claims notice, exemption and payment
authorization or account answers the lawyer's name and Law Society number with it, listed and
read by id, to the staff who work it and to everyone else who may see it (issue: the client
contract). Through HTTP."""

from __future__ import annotations

from tests.applications.test_api import _start, form_json
from tests.claims_notices.support import claims_staff, paper_notice
from tests.exemptions.test_api import _draft
from tests.exemptions.test_api import form as exemption_form
from tests.factories import bearer, login, make_firm, make_user, user_token
from tests.payments.test_api import pad


async def _staff(app, client, role):
    _, token = await user_token(app, client, role=role)
    return bearer(token)


async def _listed(client, url, headers, record_id):
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return next(item for item in response.json()["items"] if item["id"] == record_id)


async def test_staff_see_the_lawyers_name_and_law_society_number(app, client):
    firm = await make_firm(app)
    ada = await make_user(app, username="12345A", full_name="Ada Lovelace", firm_id=firm)
    ada_h = bearer(await login(client, "12345A"))
    whose = {"id": str(ada["id"]), "name": "Ada Lovelace", "law_society_number": "12345A"}

    draft, _ = await _start(client, ada_h, form=form_json())
    assert draft["lawyer"] == whose  # the answer to a change carries it too
    url = f"/applications/{draft['id']}"
    assert (await client.post(f"{url}/submit", headers=ada_h)).json()["lawyer"] == whose
    underwriter = await _staff(app, client, "underwriter")
    approved = await client.post(
        f"{url}/decision", json={"decision": "approve"}, headers=underwriter
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["lawyer"] == whose
    policy_id = approved.json()["policy"]["id"]

    notice = await paper_notice(client, await claims_staff(app, client), ada["id"], "2025-05-01")
    assert notice["lawyer"] == whose
    customer_service = await _staff(app, client, "customer_service")
    exemption, _ = await _draft(
        client,
        customer_service,
        lawyer_id=str(ada["id"]),
        channel="paper",
        received_on="2025-06-01",
        form=exemption_form("a"),
    )
    assert exemption["lawyer"] == whose
    authorization = await client.post(
        "/payments/authorizations", json=pad(policy_id), headers=ada_h
    )
    assert authorization.status_code == 201, authorization.text
    assert authorization.json()["lawyer"] == whose

    claims = await claims_staff(app, client)
    finance = await _staff(app, client, "finance")
    records = {
        "/applications": (draft["id"], ("underwriter", "customer_service")),
        "/policies": (policy_id, ("underwriter", "customer_service", "finance")),
        "/claims-notices": (notice["id"], ("claims",)),
        "/exemptions": (exemption["id"], ("customer_service", "underwriter", "finance")),
        "/payments/authorizations": (authorization.json()["id"], ("finance", "customer_service")),
    }
    headers = {
        "underwriter": underwriter,
        "customer_service": customer_service,
        "finance": finance,
        "claims": claims,
    }
    for base, (record_id, roles) in records.items():
        for role in roles:
            read = await client.get(f"{base}/{record_id}", headers=headers[role])
            assert read.status_code == 200, (base, role, read.text)
            assert read.json()["lawyer"] == whose, (base, role)
            listed = await _listed(client, base, headers[role], record_id)
            assert listed["lawyer"] == whose, (base, role)
    account = await client.get(f"/payments/accounts/{policy_id}", headers=finance)
    assert account.status_code == 200, account.text
    assert account.json()["lawyer"] == whose

    # the lawyer, and the firm's admin, see whose it is too (one shape for every reader)
    _, admin_token = await user_token(app, client, role="firm_admin", firm_id=firm)
    for reader in (ada_h, bearer(admin_token)):
        assert (await client.get(url, headers=reader)).json()["lawyer"] == whose
        assert (await _listed(client, "/policies", reader, policy_id))["lawyer"] == whose


async def test_a_lawyer_without_a_recorded_name_is_named_by_number_alone(app, client):
    lawyer, token = await user_token(app, client, username="54321B")
    draft, _ = await _start(client, bearer(token), form={"a": {"name": "Bob"}})
    underwriter = await _staff(app, client, "underwriter")
    read = await client.get(f"/applications/{draft['id']}", headers=underwriter)
    assert read.json()["lawyer"] == {
        "id": str(lawyer["id"]),
        "name": None,
        "law_society_number": "54321B",
    }
