"""A small newsroom corpus the workflow tests build: one wire story run by four outlets on different
days (one copy undated, one lightly edited), an undated untitled analysis, and stories that tell
phrase and exclusion queries apart."""

from __future__ import annotations

from pathlib import Path

WIRE = [
    "The flood barriers along the Riverton embankment failed on Tuesday night after three days of "
    "record rainfall, forcing the evacuation of more than two thousand residents from the lower town.",
    "City engineer Marta Osei said the barriers had been rated for a river level of 4.2 metres, while "
    "the gauge at Mill Bridge recorded 4.9 metres shortly before midnight.",
    "Emergency shelters opened in three schools and the municipal sports hall, and the regional "
    "government promised an emergency levy to fund repairs before the spring thaw.",
    "Residents said warnings came too late: several families were rescued from rooftops by boat "
    "crews from the fire service in the early hours of Wednesday.",
]
# (file, outlet, date, first-paragraph dateline, edit) — the wire story as each outlet ran it
COPIES = [
    ("wire-original.md", "Associated Wire", "2024-03-05", "", None),
    ("ledger-copy.md", "Daily Ledger", "2024-03-06", "RIVERTON (AW) — ", None),
    ("metro-copy.md", "Metro Post", "2024-03-08", "RIVERTON — ", ("rescued from rooftops", "lifted from rooftops")),
    ("harbour-copy.md", "Harbour Times", None, "", ("municipal sports hall", "town sports hall")),
]
WIRE_TITLE = "Flood barriers fail in Riverton after record rain"

OTHERS = {
    "beijing-trade.md": """---
title: Port talks with Beijing stall over flood insurance
outlet: Harbour Times
date: 2023-11-20
url: https://harbour.example/port-talks
---
Negotiators from Beijing and the Riverton port authority failed to agree on flood insurance terms for the new container terminal on Monday.

The port authority said an emergency levy on shipping would be a last resort, and that Beijing had asked for more time to study the river data.
""",
    "levy-vote.md": """---
title: Council approves emergency levy for embankment repairs
outlet: Daily Ledger
date: 2023-06-14
author: Ana Ruiz
---
The city council approved an emergency levy of two per cent on commercial property to pay for embankment repairs along the river.

Councillors who opposed the levy said the money should come from the regional flood fund rather than from local businesses.
""",
    "undated-analysis-of-flood-insurance.md": """Insurers are quietly withdrawing flood cover from homes along the Riverton embankment, according to brokers who asked not to be named.

Premiums for the lower town have tripled since the last major flood, and several insurers now refuse to renew policies for homes below the Mill Bridge gauge.

An emergency levy alone will not fix the embankment, one broker said, because the barriers were never designed for the river levels recorded in recent winters.
""",
}


def _front_matter(title: str, outlet: str, date: str | None) -> str:
    lines = ["---", f"title: {title}", f"outlet: {outlet}"]
    if date:
        lines.append(f"date: {date}")
    return "\n".join([*lines, "---", ""])


def write_newsroom_corpus(folder: Path) -> Path:
    """Write the corpus into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, outlet, date, dateline, edit in COPIES:
        paragraphs = list(WIRE)
        paragraphs[0] = dateline + paragraphs[0]
        if edit:
            paragraphs = [paragraph.replace(*edit) for paragraph in paragraphs]
        (folder / name).write_text(_front_matter(WIRE_TITLE, outlet, date) + "\n\n".join(paragraphs) + "\n")
    for name, text in OTHERS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
