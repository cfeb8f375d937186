"""Roles by job function (need to know)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    lawyer = "lawyer"
    firm_admin = "firm_admin"
    integration = "integration"
    customer_service = "customer_service"
    underwriter = "underwriter"
    claims = "claims"
    finance = "finance"
    auditor = "auditor"
    admin = "admin"


# Roles that belong to one law firm and see only its records.
FIRM_ROLES = frozenset({Role.firm_admin, Role.integration})
# Roles whose users must name a firm.
ROLES_REQUIRING_FIRM = frozenset({Role.firm_admin, Role.integration})
STAFF_ROLES = frozenset(
    {
        Role.customer_service,
        Role.underwriter,
        Role.claims,
        Role.finance,
        Role.auditor,
        Role.admin,
    }
)


class Scope(StrEnum):
    """What an integration may be allowed to do; granted per integration by an admin."""

    quotes_read = "quotes:read"
    quotes_write = "quotes:write"
    applications_read = "applications:read"
    applications_write = "applications:write"
    exemptions_read = "exemptions:read"
    exemptions_write = "exemptions:write"
    claims_read = "claims:read"
    claims_write = "claims:write"
    payments_read = "payments:read"
    payments_write = "payments:write"


INTEGRATION_SCOPES = frozenset(scope.value for scope in Scope)
