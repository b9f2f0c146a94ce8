"""E-mail (.eml, .mbox; standard library): the message a sender wrote, and its attached documents.

The subject is the title, the sender the author, the Date header the date. The body is the
plain-text part, else the HTML part through the HTML cleaner. Quoted replies (``>`` lines,
"On … wrote:", a forwarded original) and the signature are not part of the message's text.
Attachments that are themselves supported documents become articles of their own, linked to
the message by ``attached_to``.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import PurePath

from qa.ingest.sources import (
    SUPPORTED_SUFFIXES,
    RawDocument,
    ReadOptions,
    ReadResult,
    UnreadableFile,
    html_text,
    known_fields,
    read_data,
    slugify,
)

MAX_MESSAGES = 100_000
_QUOTE_INTRO = re.compile(
    r"^(?:on\b.{0,200}\bwrote:?|le\b.{0,200}\ba écrit\s?:|am\b.{0,200}\bschrieb.{0,80}:|.{0,200}\bwrote:)$", re.I
)
_QUOTED_REST = re.compile(
    r"^(?:-{2,}\s*(?:original message|forwarded message)\s*-{2,}|_{10,}|begin forwarded message:?)$", re.I
)
_OUTLOOK_HEADER = re.compile(r"^(?:from|von|de)\s*:\s+\S", re.I)
_OUTLOOK_SENT = re.compile(r"^(?:sent|date|gesendet|envoyé)\s*:", re.I)
_SIGNATURE = re.compile(r"^(?:-- ?|—|sent from my \w+.*|get outlook for \w+.*)$", re.I)
_MBOX_FROM = re.compile(rb"^From [^\n]*\n", re.M)


def message_text(body: str) -> str:
    """The sender's own words: the body without quoted replies, forwarded originals and the signature."""
    kept: list[str] = []
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _SIGNATURE.match(line.rstrip("\n")) or _QUOTED_REST.match(stripped):
            break
        if _OUTLOOK_HEADER.match(stripped) and any(
            re.match(r"^(?:sent|date|gesendet|envoyé)\s*:", later.strip(), re.I)
            for later in lines[number + 1 : number + 4]
        ):
            break  # Outlook's reply header ("From: … Sent: …") starts the quoted original
        if stripped.startswith(">"):
            continue
        if _QUOTE_INTRO.match(stripped) and _next_is_quote(lines, number):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _next_is_quote(lines: list[str], number: int) -> bool:
    for later in lines[number + 1 :]:
        if later.strip():
            return later.lstrip().startswith(">")
    return True


def _body(message: EmailMessage, location: str) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError) as error:  # an unknown charset or a broken encoding
        raise UnreadableFile(f"the message body cannot be decoded ({error})") from None
    if part.get_content_subtype() == "html":
        return html_text(_without_quotes(content))
    return content


def _without_quotes(markup: str) -> str:
    """An HTML body without its quoted original and signature (as mail programs mark them)."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fromstring(markup)
    except (ValueError, etree.ParserError):
        return markup
    quoted = root.xpath(
        "//blockquote|//*[contains(@class, 'gmail_quote') or contains(@class, 'gmail_signature')"
        " or contains(@class, 'moz-cite-prefix') or contains(@class, 'moz-signature')"
        " or @id = 'divRplyFwdMsg' or @id = 'appendonsend' or @id = 'Signature']"
    )
    for element in quoted:
        if element.getparent() is not None:
            element.drop_tree()
    return lxml.html.tostring(root, encoding="unicode")


def _sender(message: EmailMessage) -> str | None:
    name, address = email.utils.parseaddr(str(message.get("From", "")))
    return name or address or None


def _date(message: EmailMessage) -> str | None:
    try:
        moment = email.utils.parsedate_to_datetime(str(message.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        return None
    return moment.date().isoformat() if moment else None


def read_message(message: EmailMessage, doc_id: str, location: str, options: ReadOptions, result: ReadResult) -> None:
    """Add the message (and its supported attachments) to ``result``."""
    warnings = result.warnings
    known = known_fields(
        {"title": str(message.get("Subject", "")), "author": _sender(message), "date": _date(message)},
        location,
        warnings,
    )
    text = message_text(_body(message, location))
    if text:
        result.documents.append(RawDocument(doc_id, location, text, known))
    else:
        result.skipped.append((location, "the e-mail has no text of its own (only quotes, a signature or nothing)"))
    for number, part in enumerate(message.iter_attachments(), start=1):
        name = part.get_filename() or f"attachment-{number}"
        where = f"{location} » {name}"
        suffix = PurePath(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            kind = f"'{suffix}'" if suffix else "no extension"
            result.skipped.append((where, f"attachment of an unsupported file type ({kind})"))
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            result.skipped.append((where, "empty attachment"))
            continue
        attachment_id = f"{doc_id}/{slugify(PurePath(name).stem) or number}"
        try:
            attached = read_data(payload, suffix, attachment_id, where, options)
        except UnreadableFile as reason:
            result.skipped.append((where, str(reason)))
            continue
        for document in attached.documents:
            document.attached_to = document.attached_to or doc_id
        result.documents.extend(attached.documents)
        result.warnings.extend(attached.warnings)
        result.skipped.extend(attached.skipped)


def _parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)  # the default policy builds EmailMessage objects
    return message


def read_eml(data: bytes, doc_id: str, location: str, options: ReadOptions) -> ReadResult:
    """One e-mail message (RFC 5322) and its attachments."""
    message = _parse(data)
    if not message.keys():
        raise UnreadableFile("not an e-mail message: no headers")
    result = ReadResult([], "")
    read_message(message, doc_id, location, options, result)
    if not result.documents:
        raise UnreadableFile(result.skipped[0][1] if result.skipped else "no text in the e-mail")
    return result


def read_mbox(data: bytes, doc_id: str, location: str, options: ReadOptions) -> ReadResult:
    """Every message of an mbox mailbox: ``box.mbox:3`` is its third message."""
    starts = [match.start() for match in _MBOX_FROM.finditer(data)]
    if not starts or starts[0] != 0:
        raise UnreadableFile("not an mbox mailbox: it does not start with a 'From ' line")
    result = ReadResult([], "")
    for number, (start, end) in enumerate(zip(starts, [*starts[1:], len(data)]), start=1):
        if number > MAX_MESSAGES:
            result.skipped.append((location, f"only the first {MAX_MESSAGES:,} messages were read"))
            break
        raw = data[start:end]
        raw = raw[raw.index(b"\n") + 1 :]
        raw = re.sub(rb"^>(>*From )", rb"\1", raw, flags=re.M)  # mboxrd: '>From ' in a body was escaped
        read_message(_parse(raw), f"{doc_id}/{number}", f"{location}:{number}", options, result)
    if not result.documents:
        raise UnreadableFile("no message with text of its own in the mailbox")
    return result
