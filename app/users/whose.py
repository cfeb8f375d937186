"""Whose record it is: the owning lawyer's name and Law Society number, read in the record's
own statement (a join on the user table), for every domain that keeps lawyers' records.

A domain's `Source` joins `lawyer_join(<owner column>)` and selects `LAWYER_COLUMNS`; its
answer carries `lawyer_answer(row, <owner column>)` (`lawyer_of` where the answer is a model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

LAWYER_COLUMNS = "lw.full_name AS lawyer_name__, lw.username AS lawyer_number__"


class LawyerSummary(BaseModel):
    """The lawyer a record belongs to."""

    id: UUID
    name: str | None = Field(description="The lawyer's full name (null: not on their account)")
    law_society_number: str = Field(description="The lawyer's Law Society number")


def lawyer_join(owner: str) -> str:
    """SQL for a `Source`'s FROM: the owning lawyer's account (`lw`) of the record whose
    owner's id is the column `owner`."""
    return f"JOIN app_user AS lw ON lw.id = {owner}"


def lawyer_of(row: Mapping[Any, Any], owner: str) -> LawyerSummary:
    """The lawyer of a row read with `LAWYER_COLUMNS`; `owner` the row's owner id column."""
    return LawyerSummary.model_validate(lawyer_answer(row, owner))


def lawyer_answer(row: Mapping[Any, Any], owner: str) -> dict[str, Any]:
    """The lawyer of a row as plain data, for an answer built from its row
    (app/core/responses.py)."""
    return {
        "id": row[owner],
        "name": row["lawyer_name__"],
        "law_society_number": row["lawyer_number__"],
    }
