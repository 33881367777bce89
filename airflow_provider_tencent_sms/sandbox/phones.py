"""Phone numbers as Tencent's SMS API sees them: E.164, Mainland China (+86) or global.

SendSms checks up to 200 numbers per request, hundreds of times a second, so this uses regular expressions
and phonenumbers' country-code table instead of a full ``phonenumbers.parse`` per number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

MAINLAND_NATION_CODE = "86"
#: +86 is the only calling code of CN, so a number is a Mainland China one exactly when its IsoCode is CN.
MAINLAND_ISO_CODE = "CN"
#: Tencent's IsoCode for numbers whose country or region it does not recognise.
UNKNOWN_ISO_CODE = "DEF"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
#: Mainland China SMS goes to mobile numbers only: 11 digits starting with 13-19.
_MAINLAND_MOBILE = re.compile(r"\+86(1[3-9][0-9]{9})")
_NON_GEOGRAPHIC = "001"

#: IsoName of DescribePhoneNumberInfo for common regions. phonenumbers has the full list only in its geocoder
#: data, which takes seconds to import; other regions fall back to their ISO code.
_ISO_NAMES = {
    "AU": "Australia",
    "BR": "Brazil",
    "CA": "Canada",
    "CN": "China",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "HK": "Hong Kong, China",
    "ID": "Indonesia",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "MO": "Macao, China",
    "MY": "Malaysia",
    "NL": "Netherlands",
    "PH": "Philippines",
    "RU": "Russia",
    "SG": "Singapore",
    "TH": "Thailand",
    "TW": "Taiwan, China",
    "US": "United States",
    "VN": "Vietnam",
}


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    nation_code: str
    subscriber: str
    iso_code: str

    @property
    def iso_name(self) -> str:
        return _ISO_NAMES.get(self.iso_code, self.iso_code)


def parse(number: str) -> PhoneNumber | None:
    """Return the number's parts, or None if it is not an E.164 number Tencent would send to."""
    mainland = _MAINLAND_MOBILE.fullmatch(number)
    if mainland:
        return PhoneNumber(number, MAINLAND_NATION_CODE, mainland.group(1), MAINLAND_ISO_CODE)
    if not _E164.fullmatch(number):
        return None
    # Country calling codes are prefix-free, so the first 1-3 digit prefix that is a code is the code.
    for length in (1, 2, 3):
        nation_code = number[1 : 1 + length]
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(nation_code))
        if regions:
            break
    else:
        return None
    if nation_code == MAINLAND_NATION_CODE:
        return None  # +86 but not a mobile number
    region = regions[0]
    iso_code = UNKNOWN_ISO_CODE if region == _NON_GEOGRAPHIC else region
    return PhoneNumber(number, nation_code, number[1 + length :], iso_code)


def iso_codes(numbers: Sequence[str]) -> list[str | None]:
    """Each number's IsoCode (``CN`` for Mainland China), or None where the number is not valid."""
    # The common case, a batch of Mainland numbers, is checked by one C-level pass instead of 200 parses.
    if all(map(_MAINLAND_MOBILE.fullmatch, numbers)):
        return [MAINLAND_ISO_CODE] * len(numbers)
    parsed = map(parse, numbers)
    return [None if number is None else number.iso_code for number in parsed]
