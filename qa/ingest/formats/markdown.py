"""Markdown as the text a reader sees: no ``**``, link syntax or heading marks in a quote.

Parsed with markdown-it-py (CommonMark plus tables); every block a reader sees (paragraph,
heading, list item, table row, code block) becomes one paragraph of plain text.
"""

from __future__ import annotations

from typing import Any


def _inline(children: list[Any] | None) -> str:
    """The words of an inline run; link targets, emphasis marks, images and tags are markup, not text."""
    parts = []
    for token in children or []:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _html_text(markup: str) -> str:
    import lxml.html
    from lxml import etree

    try:
        return str(lxml.html.fromstring(markup).text_content())
    except (ValueError, etree.ParserError):
        return ""


def markdown_text(source: str) -> str:
    """The paragraphs a reader of the rendered Markdown sees, one per line, separated by blank lines."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    numbering: list[int | None] = []  # per open list: the next item number (None for bullets)
    prefix = ""
    row: list[str] | None = None
    for token in MarkdownIt("commonmark").enable("table").parse(source):
        kind = token.type
        if kind == "ordered_list_open":
            numbering.append(int(token.attrGet("start") or 1))
        elif kind == "bullet_list_open":
            numbering.append(None)
        elif kind in ("ordered_list_close", "bullet_list_close"):
            numbering.pop()
        elif kind == "list_item_open" and numbering and numbering[-1] is not None:
            prefix = f"{numbering[-1]}{token.markup or '.'} "
            numbering[-1] += 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            blocks.append(" | ".join(cell for cell in row if cell))
            row = None
        elif kind == "inline":
            text = " ".join(_inline(token.children).split())
            if row is not None:
                row.append(text)
            elif text:
                blocks.append(prefix + text)
                prefix = ""
        elif kind in ("fence", "code_block"):
            blocks.append(token.content.strip("\n"))
        elif kind == "html_block":
            blocks.append(" ".join(_html_text(token.content).split()))
    return "\n\n".join(block for block in blocks if block.strip())
