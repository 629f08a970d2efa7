"""Rand amounts in words residents read: the one money display (the `zar` filter, history sentences, labels)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NBSP = "\u00a0"


def format_zar(value: object, style: str = "") -> str:
    """Rand with spaces between thousands (the South African style); 'short' gives R1.2m / R340k for labels."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if style == "short":
        for size, suffix in ((Decimal("1e9"), "bn"), (Decimal("1e6"), "m"), (Decimal("1e3"), "k")):
            if amount >= size:
                return f"{sign}R{(amount / size).quantize(Decimal('0.1'), ROUND_HALF_UP)}{suffix}"
        return f"{sign}R{amount.quantize(Decimal('1'), ROUND_HALF_UP)}"
    whole = amount.quantize(Decimal("1"), ROUND_HALF_UP)
    if amount == amount.to_integral_value():
        text = f"{int(whole):,}".replace(",", NBSP)
    else:
        cents = amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
        text = f"{cents:,.2f}".replace(",", NBSP)
    return f"{sign}R{NBSP}{text}"
