"""Postal-code rules per country: what a valid code looks like once normalised.

A mapping names its extract's country (``country: US`` by default). In the US the ZIP is
kept as its first five digits (ZIP+4 loses the +4); elsewhere the code is kept as upper-case
letters and digits without spaces or dashes, and must match the country's pattern below.
A code that does not match is nulled and flagged ``zip_invalid``; the raw value is kept.
"""

from __future__ import annotations

# Country (ISO 3166-1 alpha-2) -> the pattern of the normalised code (letters and digits only).
POSTCODES: dict[str, str] = {
    "US": r"^[0-9]{5}$",
    "AU": r"^[0-9]{4}$",
    "AT": r"^[0-9]{4}$",
    "BE": r"^[0-9]{4}$",
    "BR": r"^[0-9]{8}$",
    "CA": r"^[A-Z][0-9][A-Z][0-9][A-Z][0-9]$",
    "CH": r"^[0-9]{4}$",
    "CN": r"^[0-9]{6}$",
    "DE": r"^[0-9]{5}$",
    "DK": r"^[0-9]{4}$",
    "ES": r"^[0-9]{5}$",
    "FI": r"^[0-9]{5}$",
    "FR": r"^[0-9]{5}$",
    "GB": r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$",
    "IE": r"^[A-Z][0-9][0-9W][A-Z0-9]{4}$",
    "IN": r"^[0-9]{6}$",
    "IT": r"^[0-9]{5}$",
    "JP": r"^[0-9]{7}$",
    "MX": r"^[0-9]{5}$",
    "NL": r"^[0-9]{4}[A-Z]{2}$",
    "NO": r"^[0-9]{4}$",
    "NZ": r"^[0-9]{4}$",
    "PL": r"^[0-9]{5}$",
    "PT": r"^[0-9]{7}$",
    "SE": r"^[0-9]{5}$",
    "SG": r"^[0-9]{6}$",
    "ZA": r"^[0-9]{4}$",
}

# Countries whose phone numbers are ten digits behind +1 (the fast path in SQL).
NANP = ("US", "CA")
