"""Input types for every API schema: integers bounded to what their column holds, strings that
refuse NUL and control characters. Use them for every new field, query and path parameter;
`tests/architecture/test_input_bounds.py` walks both OpenAPI documents and fails on an integer
without bounds or a string without the control-character rule.

PostgreSQL refuses NUL in text and numbers past its column types with errors that would
otherwise surface as 500s; here they are a 422 naming the field, before any query runs.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# What PostgreSQL's column types hold.
INT32_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
# Amounts in minor units live in bigint columns; no single amount comes near this.
AMOUNT_MAX = 10**12
# Paging further than this is no use to anyone and keeps offset + limit in any integer.
OFFSET_MAX = INT32_MAX

# C0 controls and DEL; text may keep tab, line feed and carriage return, a line none of them.
TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
LINE_PATTERN = r"^[^\x00-\x1F\x7F]*$"
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")
_LINE_FORBIDDEN = re.compile(r"[\x00-\x1F\x7F]")


def has_forbidden_characters(value: str, *, multiline: bool = True) -> bool:
    """True when `value` holds a character no input may carry (NUL, other controls)."""
    return bool((_TEXT_FORBIDDEN if multiline else _LINE_FORBIDDEN).search(value))


def _text(value: str) -> str:
    if has_forbidden_characters(value):
        raise ValueError("must not contain NUL or control characters")
    return value


def _line(value: str) -> str:
    if has_forbidden_characters(value, multiline=False):
        raise ValueError("must be one line without NUL or control characters")
    return value


# Free text (bio, notes, reasons, pasted JSON): tabs and line breaks allowed.
Text = Annotated[str, AfterValidator(_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# One line (names, e-mail addresses, tokens, search terms, path segments).
Line = Annotated[str, AfterValidator(_line), Field(json_schema_extra={"pattern": LINE_PATTERN})]

# Primary keys (bigint identity columns).
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
Offset = Annotated[int, Field(ge=0, le=OFFSET_MAX)]
# A positive amount in minor units.
Amount = Annotated[int, Field(gt=0, le=AMOUNT_MAX)]
# A count or setting kept in an integer column.
Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX)]
PositiveInt32 = Annotated[int, Field(gt=0, le=INT32_MAX)]
