"""The exceptions the format modules raise, in the shape python-stdnum users know.

Messages name the rule that failed, never the number itself: they may end up in logs.
"""


class ValidationError(ValueError):
    """A value is not a valid number of the format asked for."""


class InvalidFormat(ValidationError):
    """The value has characters or a layout the format does not allow."""


class InvalidLength(ValidationError):
    """The value has the wrong number of characters."""


class InvalidChecksum(ValidationError):
    """The check character or Luhn sum does not match."""


class InvalidComponent(ValidationError):
    """A part of the value (region, date, segment, issuer) is not one that exists."""
