"""The text of Callrix's privacy policy (`templates/website/privacy_policy.txt`, the published
wording) as blocks for the website's page: numbered headings, paragraphs, "- " lines as lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Under templates/ so that it ships in the package with the templates.
POLICY_FILE = Path(__file__).parent / "templates" / "website" / "privacy_policy.txt"
HEADING = re.compile(r"^\d+(\.\d+)*\.?\s+\S")


@dataclass
class Block:
    text: str = ""
    heading: bool = False
    items: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def policy_blocks() -> tuple[Block, ...]:
    lines = [line.strip() for line in POLICY_FILE.read_text().splitlines()]
    blocks: list[Block] = []
    for line in lines[1:]:  # the first line is the title
        if not line:
            continue
        if line.startswith("- "):
            if not blocks or not blocks[-1].items:
                blocks.append(Block())
            blocks[-1].items.append(line[2:])
        elif HEADING.match(line):
            blocks.append(Block(text=line, heading=True))
        else:
            blocks.append(Block(text=line))
    return tuple(blocks)
