"""Firms: created by admins; seen by staff and by the firm's own people."""

from __future__ import annotations

from uuid import UUID

from app.auth.principal import Principal
from app.core.audited import Source, read_page, read_record
from app.core.errors import Conflict, FieldError
from app.core.pagination import Page, TimeKeyset
from app.core.sql import Bound
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


FIRMS = Source(
    "firm",
    "firm AS r",
    subject=None,
    keyset=TimeKeyset("firm_number", newest_first=False, text=True),
)


def visible_to(principal: Principal) -> Bound:
    """Staff see every firm; a firm's own people see theirs."""
    return Bound(
        "(CAST(:staff AS boolean) OR r.id = CAST(:own AS uuid))",
        {"staff": principal.is_staff, "own": principal.firm_id},
    )


async def read_firm(unit: Unit, principal: Principal, firm_id: UUID) -> FirmRead:
    row = await read_record(unit, FIRMS, firm_id, visible_to(principal), action="firm.read")
    return FirmRead.model_validate(dict(row))


async def list_firms(
    unit: Unit, principal: Principal, *, cursor: str | None, limit: int
) -> Page[FirmRead]:
    rows, next_cursor = await read_page(
        unit, FIRMS, visible_to(principal), action="firm.list", cursor=cursor, limit=limit
    )
    return Page(items=[FirmRead.model_validate(dict(r)) for r in rows], next_cursor=next_cursor)
