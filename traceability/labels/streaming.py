"""A reportlab canvas that writes each finished page to its file at once.

reportlab's ``Canvas`` keeps every page (its uncompressed drawing operators)
until ``save()``, then builds the whole file in memory before writing it: a
sheet of 100,000 labels took about a gigabyte. ``StreamingCanvas`` writes a
page, and its compressed content stream, to the output as soon as the page
is shown, and keeps only its object number; at ``save()`` it writes what
pages share (fonts, subset to the characters used; the label form; the page
tree; the cross-reference table). Memory then stays flat in the number of
pages (a few dozen bytes of bookkeeping each).

PDF lets objects appear in any order, with the cross-reference table giving
each one's offset, so the file is a normal PDF 1.4; it is what reportlab
would write, with the objects in another order.

Page streams (each label's code and text) are deflated at zlib level
``PAGE_COMPRESSION_LEVEL`` and kept binary: zlib's default level, with
reportlab's ASCII85 layer on top, took about as long as encoding the codes;
this one takes half of that, for files about 16 % larger. What pages share
keeps reportlab's filters.

Pure Python, no Flask. It relies on reportlab's document internals
(``PDFDocument.format``); reportlab is pinned in requirements.txt and the
label tests read every file back with two PDF libraries.
"""

from __future__ import annotations

import zlib
from typing import Any, BinaryIO, Literal

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

__all__ = ["StreamingCanvas"]

PAGE_COMPRESSION_LEVEL = 3  # zlib: half the time of the default 6 on a page of codes


class _PageFlate(pdfdoc.PDFStreamFilterZCompress):
    """FlateDecode at ``PAGE_COMPRESSION_LEVEL``."""

    def encode(self, text: str | bytes) -> bytes:
        return zlib.compress(text.encode("utf8") if isinstance(text, str) else text, PAGE_COMPRESSION_LEVEL)


_PAGE_FILTERS = [_PageFlate()]


class _Output:
    """Bytes written straight to the file, keeping the offset the cross-reference table needs."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offset = 0

    def add(self, data: bytes | str) -> int:
        data = pdfdoc.pdfdocEnc(data)
        start = self.offset
        self.stream.write(data)
        self.offset += len(data)
        return start


class _StreamingDocument(pdfdoc.PDFDocument):
    """A PDFDocument whose pages are written by ``write_page`` and whose ``format`` writes the rest."""

    # Set by PDFDocument.__init__; types-reportlab declares only the public attributes.
    _pdfVersion: tuple[int, int]
    Pages: pdfdoc.PDFPages
    Catalog: pdfdoc.PDFCatalog

    def start(self, stream: BinaryIO) -> None:
        self._output = _Output(stream)
        header = pdfdoc.pdfdocEnc(f"%PDF-{self._pdfVersion[0]}.{self._pdfVersion[1]}")
        self._output.add(header + b"\n%\223\214\213\236 ReportLab Generated PDF document (opensource)\n")

    def _write_object(self, name: str) -> None:
        obj = self.idToObject[name]
        self.idToOffset[name] = self._output.add(pdfdoc.PDFIndirectObject(name, obj).format(self))

    def write_page(self) -> None:
        """Write the page just shown and its content stream; keep only a reference to it."""
        pages = self.Pages.pages
        page = pages[-1]
        if page.Contents is None and page.stream and page.compression:
            stream = pdfdoc.PDFStream(content=page.stream, filters=_PAGE_FILTERS)
            stream.__Comment__ = "page stream"  # type: ignore[attr-defined]
            page.Contents = stream
        name = page.__InternalName__
        self._write_object(name)  # formatting registers the content stream as a new object
        del self.idToObject[name]  # its number stays registered; nothing refers to the object again
        contents = getattr(page.Contents, "__InternalName__", None)
        if contents is not None and contents not in self.idToOffset:
            self._write_object(contents)
            del self.idToObject[contents]
        pages[-1] = pdfdoc.PDFObjectReference(name)

    def format(self) -> bytes:
        """Write the objects not written yet, the cross-reference table and the trailer; return b""."""
        self.encrypt.prepare(self)
        catalog, info = self.Catalog, self.info
        self.Reference(catalog)
        self.Reference(info)
        counter = 0
        ids = []
        output = self._output
        while True:  # formatting may register more objects: walk the numbers until they run out
            counter += 1
            if counter not in self.numberToId:
                break
            name = self.numberToId[counter]
            if name not in self.idToOffset:
                self._write_object(name)
            ids.append(name)
        xref = pdfdoc.PDFCrossReferenceTable()
        xref.addsection(0, ids)
        start = output.add(xref.format(self))
        trailer = pdfdoc.PDFTrailer(
            startxref=start,
            Size=len(self.numberToId) + 1,
            Root=self.Reference(catalog),
            Info=self.Reference(info),
            Encrypt=None,
            ID=self.ID(),
        )
        output.add(trailer.format(self))
        return b""


class StreamingCanvas(Canvas):
    """A Canvas on a binary file object that writes each page when it is shown (see the module)."""

    _pageCompression: bool | Literal[0, 1] | None  # set by Canvas.__init__, not declared by types-reportlab

    def __init__(self, output: BinaryIO, **options: Any) -> None:
        super().__init__(output, **options)
        self._doc = _StreamingDocument(  # the same settings as the document the Canvas made
            compression=self._pageCompression,
            invariant=options.get("invariant"),
            pdfVersion=options.get("pdfVersion") or pdfdoc.PDF_VERSION_DEFAULT,
            lang=options.get("lang"),
        )
        self._doc.start(output)

    def showPage(self) -> None:
        super().showPage()
        self._doc.write_page()
