"""A policy's cover terms, as claims notices read them: from the policy's row (`PolicyCover`)
and from the JSON document a notice's read carries (`cover_terms`), one rule."""

from decimal import Decimal
from uuid import uuid4

import pytest

from app.policies.cover import INCLUDED_INNOCENT_PARTY, _cover, cover_terms


@pytest.mark.parametrize(
    ("options", "real_estate", "expected"),
    [
        (None, "not_taken", (INCLUDED_INNOCENT_PARTY, False)),
        ({}, "in_force", (INCLUDED_INNOCENT_PARTY, True)),
        (
            {"innocent_party_sublimit": "500000"},
            "pending_due_diligence",
            (Decimal("500000.00"), False),
        ),
        ({"innocent_party_sublimit": "1000000.00"}, "in_force", (Decimal("1000000.00"), True)),
    ],
)
def test_the_document_and_the_row_give_the_same_terms(options, real_estate, expected):
    assert cover_terms(options, real_estate) == expected
    cover = _cover(uuid4(), 2025, "5000_combined", options, real_estate)
    assert (cover.innocent_party_limit, cover.real_estate_option) == expected
    assert str(cover.innocent_party_limit).endswith(".00")
