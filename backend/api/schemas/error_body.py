"""The one body of every error of the HTTP API, whatever its status or its cause: a backend
error, a request that does not fit the schema, a path that does not exist."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorPublic(BaseModel):
    """What went wrong, and the field and rule it broke where the error names them."""

    message: str = Field(description="what went wrong, in a sentence")
    field: str | None = Field(description="the field, parameter or claim at fault, if one is")
    rule: str | None = Field(description="the rule that was broken, if one is named")
