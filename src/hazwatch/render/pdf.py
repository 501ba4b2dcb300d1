"""PDF from HTML, with WeasyPrint (the same HTML people see in the browser, laid out for
A4 print by the template's ``@page`` rules).

Nothing is fetched while rendering but ``data:`` URIs: a template that names a stylesheet,
image or font on a network or the file system renders without it (plant networks are
air-gapped, and a report must not read local files). Text is set with the fonts installed
on the machine through fontconfig: Chinese text needs a CJK font — on Debian the package
``fonts-noto-cjk`` (Noto Sans CJK), which the templates name first.
"""

from __future__ import annotations

# WeasyPrint ships no type information.
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]


def html_to_pdf(html: str) -> bytes:
    """The PDF of ``html`` (a whole document)."""
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf
