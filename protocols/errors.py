"""Errors of the wire contract.

Every error names the field it is about and the rule that was broken, because the
backend counts them by (field, rule) and a desk operator must be able to read them::

    ProtocolError
    ├── CodecError
    │   ├── MsdDecodeError      bytes that are not a valid MSD of any supported version
    │   ├── MsdEncodeError      an MSD value that cannot be put on the wire
    │   └── MsdValidationError  decodes, but breaks a rule of EN 15722 beyond the ASN.1
    ├── EnvelopeError           a message envelope that is malformed, oversized or unknown
    └── TopicError              a topic outside the contract
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """Base of every wire-contract error; carries the offending field and the rule."""

    def __init__(self, message: str, *, field: str = "", rule: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        text = super().__str__()
        if self.field and not text.startswith(self.field):
            return f"{self.field}: {text}"
        return text


class CodecError(ProtocolError):
    """A payload could not be encoded or decoded."""


class MsdDecodeError(CodecError):
    """The bytes are not a valid MSD of a supported version."""


class MsdEncodeError(CodecError):
    """The MSD value cannot be encoded."""


class MsdValidationError(CodecError):
    """The MSD decodes but breaks a rule of EN 15722 that the ASN.1 does not enforce."""


class EnvelopeError(ProtocolError):
    """A message envelope is malformed, oversized or of an unknown kind or version."""


class TopicError(ProtocolError):
    """A topic does not belong to the contract."""
