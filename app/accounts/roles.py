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

# What an integration may be allowed to do; granted per integration by an admin.
INTEGRATION_SCOPES = frozenset(
    {
        "quotes:read",
        "quotes:write",
        "applications:read",
        "applications:write",
        "exemptions:read",
        "exemptions:write",
        "claims:read",
        "claims:write",
        "payments:read",
        "payments:write",
    }
)
