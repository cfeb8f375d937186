"""Field types shared by the domains' schemas."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic.networks import validate_email


@lru_cache(maxsize=16_384)
def _normalized_email(value: str) -> str:
    # pydantic's own check (email-validator, no DNS), remembered: the same addresses come back
    # on every read of the stored forms they are part of, and the check costs ~0.3 ms.
    return validate_email(value)[1]


# An e-mail address, normalized, as pydantic's EmailStr (same check, same error, same schema).
Email = Annotated[
    str, AfterValidator(_normalized_email), WithJsonSchema({"type": "string", "format": "email"})
]
