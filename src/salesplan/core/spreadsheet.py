"""Text cells that a spreadsheet program will show rather than run.

Excel, LibreOffice and Google Sheets run a cell as a formula when its text starts with
= + - or @, and some of them first skip blanks or, when a file is split on another
separator, the separators in front (`;=1+2`). A leading tab or carriage return can also
start one. Such a cell gets a leading apostrophe, which every one of them reads as
"this is text" and does not show.
"""

FORMULA_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms
# What a spreadsheet may skip before deciding: blanks and field separators.
SKIPPED_BEFORE_FORMULA = ";,|\t\r\n\x0b\x0c"


def starts_like_formula(text: str) -> bool:
    if not text:
        return False
    if text[0] in "\t\r\n":
        return True
    rest = text.lstrip()
    while rest and rest[0] in SKIPPED_BEFORE_FORMULA:
        rest = rest[1:].lstrip()
    return bool(rest) and rest[0] in FORMULA_TRIGGERS


def formula_safe(text: str) -> str:
    """The text as it should be written to a spreadsheet cell."""
    return "'" + text if starts_like_formula(text) else text
