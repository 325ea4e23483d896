"""Every user-facing string on a licensee's side has its German: the msgids the templates
(`{% translate %}`, `{% blocktranslate %}`) and the Python code (`_()`, `gettext…`) of the
licensee-side apps use are each in a German catalogue with a translation that is not empty
and not fuzzy. A new English string without its German fails here, naming file and text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polib
from babel.messages.extract import extract_python

ROOT = Path(__file__).resolve().parents[2]
# What a licensee's people see: the tenant apps, sign-in and accounts, the brand, and the
# licensee side of compliance. (Callrix's own site and staff admin are English only.)
LICENSEE_SIDE = ["tenant_apps", "identity", "branding", "compliance/licensee"]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
}
TRANSLATE = re.compile(
    r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<text>.*?)(?P=q)"""
    r"""(?:\s+context\s+(?P<cq>["'])(?P<context>.*?)(?P=cq))?[^%]*%\}""",
    re.S,
)
BLOCK = re.compile(
    r"\{%\s*blocktrans(?:late)?(?P<options>[^%]*)%\}(?P<body>.*?)\{%\s*endblocktrans(?:late)?\s*%\}",
    re.S,
)
VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def _sources(suffix: str) -> Iterator[Path]:
    for folder in LICENSEE_SIDE:
        for path in sorted((ROOT / folder).rglob(f"*{suffix}")):
            if "migrations" not in path.parts and "locale" not in path.parts:
                yield path


def _block_msgid(options: str, body: str) -> str:
    singular = re.split(r"\{%\s*plural\s*%\}", body)[0]
    if "trimmed" in options.split():
        singular = " ".join(line.strip() for line in singular.strip().splitlines())
    return VARIABLE.sub(lambda match: f"%({match.group(1)})s", singular.replace("%", "%%"))


def used_msgids() -> dict[tuple[str | None, str], str]:
    """{(context, msgid): where it is used}."""
    used: dict[tuple[str | None, str], str] = {}
    for path in _sources(".html"):
        text = path.read_text()
        where = str(path.relative_to(ROOT))
        for match in TRANSLATE.finditer(text):
            used.setdefault((match.group("context"), match.group("text")), where)
        for match in BLOCK.finditer(text):
            context = re.search(r"""context\s+["'](.*?)["']""", match.group("options"))
            msgid = _block_msgid(match.group("options"), match.group("body"))
            used.setdefault((context.group(1) if context else None, msgid), where)
    for path in _sources(".py"):
        where = str(path.relative_to(ROOT))
        with path.open("rb") as source:
            for lineno, funcname, messages, _comments in extract_python(
                source, list(KEYWORDS), [], {}
            ):
                parts = messages if isinstance(messages, tuple) else (messages,)
                if funcname.startswith("pgettext"):
                    context, msgid = parts[0], parts[1]
                else:
                    context, msgid = None, parts[0]
                if isinstance(msgid, str) and msgid:
                    used.setdefault((context, msgid), f"{where}:{lineno}")
    return used


def german() -> dict[tuple[str | None, str], str]:
    translated: dict[tuple[str | None, str], str] = {}
    for path in sorted(ROOT.glob("**/locale/de/LC_MESSAGES/django.po")):
        if ".venv" in path.parts or "build" in path.parts:
            continue
        for entry in polib.pofile(str(path)):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            text = entry.msgstr or (entry.msgstr_plural or {}).get(0, "")
            if text.strip():
                translated[(entry.msgctxt, entry.msgid)] = text
    return translated


def test_every_licensee_side_string_has_its_german():
    known = german()
    missing = sorted(
        f"{where}: {msgid!r}"
        for (context, msgid), where in used_msgids().items()
        if (context, msgid) not in known
    )
    assert not missing, f"{len(missing)} strings without German:\n" + "\n".join(missing)


def test_the_check_sees_templates_and_code():
    used = used_msgids()
    assert (None, "Your wallet") in used  # a template's {% translate %}
    assert (None, "Call with %(advisor)s, %(duration)s") in used  # Python's gettext
    assert any("%(held)s reserved" in msgid for _context, msgid in used)  # blocktranslate
