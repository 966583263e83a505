"""Phone numbers: parsed and normalised to E.164 with ``phonenumbers``."""

from __future__ import annotations

import phonenumbers


class BadPhoneNumber(ValueError):
    """The text is not a valid phone number; the message says why."""


def normalise_phone(text: str, country: str | None = None) -> str:
    """``text`` as E.164 (``+31201234567``); numbers without ``+`` are read as numbers of
    ``country`` (ISO code, default NL). Raises :class:`BadPhoneNumber`."""
    region = (country or "NL").upper()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise BadPhoneNumber(f"{text!r} is not a phone number ({error})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadPhoneNumber(f"{text!r} is not a valid phone number for {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """An E.164 number in international notation for people (``+31 20 123 4567``)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
