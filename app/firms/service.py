"""Firms: created by admins; seen by staff and by the firm's own people."""

from __future__ import annotations

from uuid import UUID

from app.auth.principal import Principal
from app.core.errors import Conflict, FieldError, NotFound
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.unit_of_work import Unit
from app.firms import repository as repo
from app.firms.models import Firm
from app.firms.schemas import FirmCreate, FirmRead


async def create_firm(unit: Unit, body: FirmCreate) -> Firm:
    if await repo.firm_number_taken(unit.db, body.firm_number):
        raise Conflict(
            "A firm with this number exists.",
            errors=[FieldError("firm_number", "taken", "A firm with this number exists.")],
        )
    firm = Firm(name=body.name, firm_number=body.firm_number)
    unit.db.add(firm)
    await unit.db.flush()
    await unit.db.refresh(firm, ["created_at"])
    unit.audit.record_change(
        "firm.create",
        resource_type="firm",
        resource_id=firm.id,
        before=None,
        after=body.model_dump(),
    )
    return firm


async def read_firm(unit: Unit, principal: Principal, firm_id: UUID) -> Firm:
    firm = await repo.get_firm(unit.db, firm_id)
    if firm is None or not (principal.is_staff or principal.firm_id == firm.id):
        raise NotFound("No such firm.", resource_type="firm", resource_id=str(firm_id))
    unit.audit.record("firm.read", resource_type="firm", resource_id=firm.id)
    return firm


async def list_firms(unit: Unit, *, cursor: str | None, limit: int) -> Page[FirmRead]:
    position = decode_cursor(cursor)
    after = str(position[0]) if position else None
    firms = await repo.list_firms(unit.db, after=after, limit=limit + 1)
    page, more = firms[:limit], len(firms) > limit
    unit.audit.record(
        "firm.list",
        resource_type="firm",
        details={"cursor": cursor, "limit": limit, "ids": [f.id for f in page]},
    )
    return Page(
        items=[FirmRead.model_validate(f) for f in page],
        next_cursor=encode_cursor([page[-1].firm_number]) if more else None,
    )
