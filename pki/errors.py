"""The one error tree of ``pki``."""

from __future__ import annotations


class PkiError(RuntimeError):
    """A certificate authority could not be created, read or asked for an identity."""


class IdentityNameError(PkiError, ValueError):
    """An identity name cannot be a certificate's CN and a file name at once."""
