"""Compiles every app's translations (`<app>/locale/<lang>/LC_MESSAGES/django.po`) into the
`.mo` files Django reads, in pure Python (polib), so no GNU gettext is needed to build.
The `.mo` files are build output and not committed; `scripts/bootstrap` runs this, and so does
the image's build stage (deploy/Dockerfile), with polib installed beside, not into, the
image's virtualenv: polib is a build tool (the `demo` extra), not a runtime dependency.

    python -m callrix.translations [root]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polib

SOURCE_FOLDERS = (
    "branding",
    "identity",
    "tenant_apps",
    "shared_apps",
    "compliance",
    "tenants",
    "platform",
)


def catalogues(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder in SOURCE_FOLDERS:
        found += sorted((root / folder).glob("**/locale/*/LC_MESSAGES/django.po"))
    return found


def compile_all(root: Path) -> list[Path]:
    """Write a .mo beside every .po that is newer than it; returns the .mo files written."""
    import polib  # a build tool: the running image has translations.py but not polib

    written = []
    for po_path in catalogues(root):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        broken = [entry.msgid for entry in catalogue if not entry.obsolete and _broken(entry)]
        if broken:
            raise SystemExit(f"{po_path}: placeholders differ in translation of {broken[0]!r}")
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def _broken(entry: polib.POEntry) -> bool:
    """A translation that drops or invents a %(name)s / {name} placeholder would crash or
    mislead at run time."""
    if not entry.msgstr or "fuzzy" in entry.flags:
        return False
    pattern = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
    return sorted(pattern.findall(entry.msgid)) != sorted(pattern.findall(entry.msgstr))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parents[2]
    for mo_path in compile_all(root):
        print(f"compiled {mo_path.relative_to(root)}")


if __name__ == "__main__":
    main()
