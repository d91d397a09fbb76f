"""The synthesis as a Word document (python-docx), laid out like the seed's synthesis pack."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from bot.core.digest.chart import ranking_png
from bot.core.digest.model import DigestView
from bot.core.digest.synthesis import (
    LANGUAGE,
    Block,
    Chart,
    Heading,
    Items,
    Paragraph,
    Quote,
    Run,
    Table,
    synthesis,
)

if TYPE_CHECKING:
    from docx.document import Document as WordDocument
    from docx.table import Table as WordTable
    from docx.text.paragraph import Paragraph as WordParagraph

# Characters XML 1.0 cannot hold (most C0 controls): Word could not open a file with them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def render_docx(view: DigestView) -> bytes:
    """The .docx file's bytes."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.core_properties.title = xml_safe(view.round.title)
    document.core_properties.author = "Roundtable"
    document.core_properties.language = LANGUAGE
    _language(document)
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)
    for block in synthesis(view):
        _add(document, block)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _add(document: WordDocument, block: Block) -> None:
    from docx.shared import Inches

    if isinstance(block, Heading):
        # Level 1 is the title; sections, questions and themes follow as Heading 1-3.
        level = 0 if block.level == 1 else block.level - 1
        document.add_heading(xml_safe(block.text), level=level)
    elif isinstance(block, Paragraph):
        _runs(document.add_paragraph(), block.runs)
    elif isinstance(block, Quote):
        paragraph = document.add_paragraph(style="Quote")
        paragraph.add_run(xml_safe(f"“{block.text.strip()}”"))
        if block.by:
            paragraph.add_run(xml_safe(f" — {block.by}")).italic = False
    elif isinstance(block, Items):
        style = "List Number" if block.numbered else "List Bullet"
        for item in block.items:
            _runs(document.add_paragraph(style=style), item)
    elif isinstance(block, Table):
        table = document.add_table(rows=1, cols=len(block.header))
        table.style = "Light Grid Accent 1"
        for cell, text in zip(table.rows[0].cells, block.header, strict=True):
            cell.text = xml_safe(text)
        _header_row(table)
        if block.caption:
            _title(table, xml_safe(block.caption))
        for row in block.rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = xml_safe(text)
    elif isinstance(block, Chart):
        png = ranking_png(block.prompt)
        if png is not None:
            picture = document.add_picture(io.BytesIO(png), width=Inches(6.3))
            # Word's alt text: what a screen reader says, and what Accessibility Check asks for.
            picture._inline.docPr.set("descr", xml_safe(block.alt))
    else:
        raise TypeError(f"unknown block {block!r}")


def _title(table: WordTable, text: str) -> None:
    """The table's title (Word's Table Properties → Alt Text), read out by screen readers."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    caption = OxmlElement("w:tblCaption")
    caption.set(qn("w:val"), text)
    table._tbl.tblPr.append(caption)


def _header_row(table: WordTable) -> None:
    """Mark the first row as the table's header: read as such by screen readers, and
    repeated at the top of each page the table runs onto."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(header)


def _language(document: WordDocument) -> None:
    """British English as the text's language (the template says US English), so that a
    screen reader reads it and Word checks its spelling as such."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is None:
        run_defaults = OxmlElement("w:rPrDefault")
        defaults.insert(0, run_defaults)
    properties = run_defaults.find(qn("w:rPr"))
    if properties is None:
        properties = OxmlElement("w:rPr")
        run_defaults.append(properties)
    lang = properties.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        properties.append(lang)
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE)


def _runs(paragraph: WordParagraph, runs: tuple[Run, ...]) -> None:
    for run in runs:
        added = paragraph.add_run(xml_safe(run.text))
        added.bold = run.bold or None
        added.italic = run.italic or None
