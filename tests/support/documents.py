"""Documents journalists hold, generated for the tests: PDF (reportlab), Word (python-docx), e-mail (stdlib).

Every builder writes real files through the libraries that make them in the wild, with the
furniture the reader must drop: running headers and footers, page numbers, quoted replies,
signatures. The texts below are what the tests expect to find (or not find) in the index.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path
from typing import Any

REPORT_TITLE = "Trafficking on the River Delta"
REPORT_AUTHOR = "Amina Qureshi"
RUNNING_HEADER = "Delta Watch | Annual Report 2024"
# Page 1: one column; "inter-" ends a line and "national" starts the next.
P1_LINES = [
    "The investigation found that forty-two brokers operated in the delta during the",
    "period under review, most of them recruiting through messaging groups and inter-",
    "national job boards that promised factory work abroad.",
]
P1_SECOND = [
    "Brokers moved the money through informal transfer agents in three border towns.",
    "The ledgers we obtained show payments of about 3,000 dollars for every recruit.",
]
# Page 2: two columns, written into the PDF line by line across both columns (left, right,
# left, right …), so only reading the layout gets the order right.
P2_LEFT = [
    "Port inspectors in Khulna were paid to",
    "look away when the boats left at night,",
    "according to six crew members we inter-",
    "viewed separately over two months.",
    "",
    "Harbour records for 2023 list no depar-",
    "tures at all after ten in the evening.",
]
P2_RIGHT = [
    "The shipping company denied every claim",
    "and said its vessels were inspected at",
    "each port of call. Its lawyers declined to",
    "answer written questions about the crews",
    "and the payments that the ledgers record",
    "for the months of March and April",
]
# Page 3: the right column's last paragraph goes on here, then a new one.
P3_LINES = [
    "in the year of the flooding.",
    "",
    "A court in Dhaka opened a case against two brokers in January 2024.",
]
# Page 4: only an image of this text (a scan): it can only be read by OCR.
SCAN_LINES = [
    "Witness statement taken at the district court.",
    "The witness said the recruiters confiscated",
    "every passport on the first day of the journey.",
]
DOCX_TITLE = "Memo on the Harbour Inquiry"
MAIL_SUBJECT = "Tip: the harbour payments"


def _report_page(canvas, page: int, height: float) -> None:
    canvas.setFont("Helvetica", 8)
    canvas.drawString(72, height - 40, RUNNING_HEADER)
    canvas.drawCentredString(297, 30, f"Page {page} of 4")


def _draw_lines(canvas, lines: list[str], top: float) -> None:
    """One line every 13 points down from ``top``; an empty line leaves a gap (a paragraph break)."""
    for number, line in enumerate(lines):
        if line:
            canvas.drawString(72, top - 13 * number, line)


def build_report_pdf(path: Path, scan: bool = True) -> Path:
    """A 4-page NGO report: one column, two columns, a paragraph running across a page break, a scan."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as pdf_canvas

    width, height = A4
    canvas = pdf_canvas.Canvas(str(path), pagesize=A4, invariant=1)
    canvas.setTitle(REPORT_TITLE)
    canvas.setAuthor(REPORT_AUTHOR)

    _report_page(canvas, 1, height)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(72, height - 100, REPORT_TITLE)
    canvas.setFont("Helvetica", 10)
    _draw_lines(canvas, [*P1_LINES, "", *P1_SECOND], height - 140)
    canvas.showPage()

    _report_page(canvas, 2, height)
    canvas.setFont("Helvetica", 10)
    y = height - 100
    for left, right in zip(P2_LEFT + [""] * (len(P2_RIGHT) - len(P2_LEFT)), P2_RIGHT + [""] * 9):
        if left:
            canvas.drawString(72, y, left)
        if right:
            canvas.drawString(310, y, right)
        y -= 13
    canvas.showPage()

    _report_page(canvas, 3, height)
    canvas.setFont("Helvetica", 10)
    _draw_lines(canvas, P3_LINES, height - 100)
    canvas.showPage()

    if scan:
        image = scanned_page_image(SCAN_LINES, width, height, size=14)
        canvas.drawImage(image, 0, 0, width=width, height=height)
        _report_page(canvas, 4, height)  # the header and page number stay text, as a scanner's stamp would
        canvas.showPage()
    canvas.save()
    # invariant=1 stamps 2000-01-01; give the report a real creation date (same length: offsets hold).
    path.write_bytes(path.read_bytes().replace(b"D:20000101000000", b"D:20240315093000"))
    return path


def build_plain_pdf(path: Path, paragraphs: list[str], title: str | None = None) -> Path:
    """A one-page PDF of short paragraphs (each one line)."""
    from reportlab.pdfgen import canvas as pdf_canvas

    canvas = pdf_canvas.Canvas(str(path), invariant=1)
    if title:
        canvas.setTitle(title)
    canvas.setFont("Helvetica", 10)
    y = 760
    for paragraph in paragraphs:
        canvas.drawString(72, y, paragraph)
        y -= 26
    canvas.showPage()
    canvas.save()
    return path


def build_encrypted_pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas as pdf_canvas

    canvas = pdf_canvas.Canvas(str(path), encrypt="secret")
    canvas.drawString(72, 700, "A confidential paragraph that needs the password to be read at all.")
    canvas.showPage()
    canvas.save()
    return path


def build_memo_docx(path: Path) -> Path:
    """A memo: Title paragraph, headings, body paragraphs, a table, and a page header and footer."""
    import datetime as dt

    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = DOCX_TITLE
    properties.author = "Tomas Lindqvist"
    properties.created = dt.datetime(2024, 2, 9, 15, 30)
    section = document.sections[0]
    section.header.paragraphs[0].text = "CONFIDENTIAL — internal memo"
    section.footer.paragraphs[0].text = "Page 1"
    document.add_paragraph(DOCX_TITLE, style="Title")
    document.add_heading("Background", level=1)
    document.add_paragraph(
        "The harbour master told the inquiry that night departures were never logged, "
        "because the logbook was kept only during office hours."
    )
    document.add_paragraph(
        "Two customs officers confirmed that the night shift had no inspector on duty "
        "for most of 2023, and that nobody had asked them to report the boats."
    )
    document.add_heading("Next steps", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Request the port's CCTV archive for March"
    table.cell(0, 1).text = "Legal team, by 1 March"
    table.cell(1, 0).text = "Interview the former harbour master again"
    table.cell(1, 1).text = "Reporting team"
    document.save(str(path))
    return path


def tip_message(attachment: tuple[str, bytes, str] | None = None, html: bool = False) -> EmailMessage:
    """A tip-off e-mail: the sender's text, a quoted earlier message, a signature, maybe an attachment."""
    message = EmailMessage()
    message["Subject"] = MAIL_SUBJECT
    message["From"] = "Rahim Chowdhury <rahim@example.org>"
    message["To"] = "desk@example.net"
    message["Date"] = "Tue, 12 Mar 2024 08:15:00 +0600"
    own = (
        [
            "I worked on the night shift at the harbour until last year.",
            "The captains paid the inspectors in cash before every night departure, "
            "usually two hundred dollars a boat.",
        ]
        if not html
        else [
            "I kept the night register at the harbour until last year.",
            "Nobody wrote down the boats that sailed after midnight, on the orders of the harbour master.",
        ]
    )
    quoted = [
        "On Mon, 11 Mar 2024 at 17:02, Desk <desk@example.net> wrote:",
        "> Can you tell us more about the inspections at the harbour?",
        "> We are looking at the ledgers of the shipping company.",
    ]
    signature = ["-- ", "Rahim Chowdhury", "Sent with a secure mail service that keeps no logs of anything."]
    if html:
        body = (
            "<html><body><div><p>" + "</p><p>".join(own) + "</p></div>"
            '<div class="gmail_signature">Rahim Chowdhury, former harbour clerk with twenty years of service.</div>'
            '<div class="gmail_quote"><div>' + quoted[0] + "</div><blockquote>"
            "Can you tell us more about the inspections at the harbour?</blockquote></div></body></html>"
        )
        message.set_content(body, subtype="html")
    else:
        message.set_content("\n\n".join(own) + "\n\n" + "\n".join(quoted) + "\n\n" + "\n".join(signature) + "\n")
    if attachment:
        name, data, kind = attachment
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def build_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    """An mbox mailbox of ``messages`` (mboxrd: body lines starting 'From ' are escaped)."""
    import mailbox

    box = mailbox.mbox(str(path))
    for message in messages:
        box.add(message)
    box.flush()
    box.close()
    return path


def build_rotated_pdf(path: Path, lines: list[str]) -> Path:
    """A page stored landscape with /Rotate 90 whose text is drawn turned, so it reads upright on screen."""
    from reportlab.pdfgen import canvas as pdf_canvas

    canvas = pdf_canvas.Canvas(str(path), pagesize=(842, 595))
    canvas.setPageRotation(90)
    canvas.setFont("Helvetica", 10)
    for number, line in enumerate(lines):
        canvas.saveState()
        canvas.translate(100 + 13 * number, 72)  # shown at 100 + 13n points from the top
        canvas.rotate(90)
        canvas.drawString(0, 0, line)
        canvas.restoreState()
    canvas.showPage()
    canvas.save()
    return path


def scanned_page_image(lines: list[str], width: float, height: float, size: float = 12, dpi: int = 150) -> Any:
    """A page-sized image of lines typed at ``size`` points (for reportlab's drawImage), made by
    rasterising a text page: no font files needed."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as pdf_canvas

    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=(width, height))
    canvas.setFont("Times-Roman", size)
    for number, line in enumerate(lines):
        canvas.drawString(72, height - 100 - 1.42 * size * number, line)
    canvas.showPage()
    canvas.save()
    return ImageReader(pdfium.PdfDocument(buffer.getvalue())[0].render(scale=dpi / 72, grayscale=True).to_pil())
