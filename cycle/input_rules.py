"""What a service accepts from any caller: plain amounts, ISO 4217 currencies, text in its limit.

The services apply these rules, so the web pages, the API and the command line all get the same
coded refusal (``cycle.errors.InvalidRequest``). Forms and serializers take their limits from here
for the page's ``maxlength`` and the schema, and leave the judging to the service.

- An amount is a plain decimal: ASCII digits, at most two decimal places and 12 digits before the
  point. No ``1_000``, no exponent (``1e6``), no digits of another script, no ``NaN`` or
  ``Infinity``, no sign.
- A currency is an ISO 4217 code of a currency (not a fund, a precious metal, a unit of account or
  the testing codes), in letters of either case.
- Every stored text has a limit: :data:`LONG_TEXT` for reasons, summaries, dissent and what users
  said; :data:`SHORT_TEXT` for titles, names, forums and groups. Text must be valid Unicode
  (nothing an undecodable command-line argument leaves behind) and hold no NUL character.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .errors import InvalidRequest
from .i18n import gettext_lazy as _

LONG_TEXT = 10_000
"""The longest free text a service accepts (reasons, summaries, dissent, what users said)."""

SHORT_TEXT = 200
"""The longest title, name, forum, group represented or service area."""

REFERENCE_TEXT = 500
"""The longest reference to a document kept elsewhere."""

AMOUNT_DIGITS = 12

_PLAIN_AMOUNT = re.compile(rf"[0-9]{{1,{AMOUNT_DIGITS}}}(?:\.[0-9]{{1,2}})?", re.ASCII)

CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - the codes read as a table
)
"""ISO 4217 currency codes (list one, 2025), without funds, metals, units of account or tests."""


def _key(field: str) -> str:
    return field.replace(" ", "_")


def text(
    value: Any, field: str, *, limit: int = LONG_TEXT, required: bool = True, code: str = ""
) -> str:
    """``value`` stripped, or a coded refusal: empty when required, too long, not valid text.

    ``field`` names it in the message ("summary", "dissent reasons"); an empty one is refused
    with ``code`` (default ``invalid.<field>``), a long one with ``invalid.too_long``.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(
            _(
                "%(field)s must be text.",
                field=field,
            ),
            code=code or f"invalid.{_key(field)}",
        )
    stripped = value.strip()
    if required and not stripped:
        raise InvalidRequest(
            _(
                "%(field)s must not be empty.",
                field=field,
            ),
            code=code or f"invalid.{_key(field)}",
        )
    if len(stripped) > limit:
        raise InvalidRequest(
            _(
                "%(field)s must be at most %(limit)s characters (it has %(length)s).",
                field=field,
                limit=limit,
                length=len(stripped),
            ),
            code="invalid.too_long",
        )
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            _(
                "%(field)s is not valid UTF-8 text.",
                field=field,
            ),
            code="invalid.encoding",
        ) from None
    if "\x00" in stripped:
        raise InvalidRequest(
            _(
                "%(field)s must not contain a NUL character.",
                field=field,
            ),
            code="invalid.encoding",
        )
    return stripped


def amount(value: Decimal | str | int | None) -> Decimal | None:
    """A plain decimal amount of money in pence precision (``410000`` is ``410000.00``), or
    ``None`` for no amount; a coded refusal otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise InvalidRequest(
            _(
                "%(value)s is not an amount of money: give it as text, like 950000.50.",
                value=repr(value),
            ),
            code="invalid.amount",
        )
    written = value.strip() if isinstance(value, str) else str(value)
    if written.startswith("-"):
        raise InvalidRequest(
            _(
                "The amount must be zero or more.",
            ),
            code="invalid.amount",
        )
    if _PLAIN_AMOUNT.fullmatch(written) is None:
        raise InvalidRequest(
            _(
                "%(written)s is not a plain amount: write digits 0-9 with at most two decimal "
                "places and %(digits)s digits before the point, like 950000.50 (no "
                "commas, underscores or exponents).",
                written=repr(written[:40]),
                digits=AMOUNT_DIGITS,
            ),
            code="invalid.amount",
        )
    return Decimal(written).quantize(Decimal("0.01"))


def currency(value: str | None, default: str = "GBP") -> str:
    """An ISO 4217 currency code in capitals, or a coded refusal."""
    written = (value or default).strip() if isinstance(value, str | type(None)) else ""
    code = written.upper() if written.isascii() else ""
    if code not in CURRENCIES:
        raise InvalidRequest(
            _(
                "%(written)s is not an ISO 4217 currency code; give one such as GBP or EUR.",
                written=repr(written[:20]),
            ),
            code="invalid.currency",
        )
    return code
