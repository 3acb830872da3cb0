"""What every picture shares: loading matplotlib (optional, Agg backend) and writing a figure to
PNG, SVG, PDF or a self-contained HTML page chosen by the path's suffix."""

from __future__ import annotations

import html
import io
import os
import pathlib
import sys
from typing import Optional

from ..outputs import atomic_path, check_output

MISSING = "drawing needs matplotlib: pip install rnabert[plot]"
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".html": "html", ".htm": "html"}


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), or ImportError saying what to
    install: matplotlib is an optional extra, so it is imported only when a picture is drawn."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(MISSING) from None
    # Agg before pyplot: a headless server or a test must never try to open a window; a session
    # that already uses pyplot (a notebook) keeps its own backend (every figure here is closed
    # after saving, so nothing pops up there either)
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def format_of(path) -> str:
    """The picture format a path asks for by its suffix; ValueError (one line) for others."""
    suffix = pathlib.Path(os.fspath(path)).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"picture {os.fspath(path)}: unknown suffix {suffix or '(none)'}; "
            "use .png, .svg, .pdf or .html"
        )
    return FORMATS[suffix]


def check_picture(path, inputs=()) -> None:
    """Before any work: ValueError (one line) for an unknown suffix, an unwritable place or a path
    that is one of ``inputs``; ImportError when matplotlib is missing."""
    format_of(path)
    check_output(path, inputs)
    pyplot()


def save(fig, path, *, title: Optional[str] = None, extra_html: str = "", dpi: int = 120):
    """Write ``fig`` to ``path`` (format from the suffix) through a temporary file, close it, and
    return the path as a :class:`pathlib.Path`.

    ``.html`` gives one self-contained page: the figure as inline SVG (it scales and its text can
    be searched), followed by ``extra_html`` (for example a text form of an alignment).
    """
    plt = pyplot()
    fmt = format_of(path)
    try:
        with atomic_path(path) as tmp:
            if fmt == "html":
                buf = io.StringIO()
                fig.savefig(buf, format="svg", bbox_inches="tight")
                page = html_page(buf.getvalue(), title=title, extra_html=extra_html)
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write(page)
            else:
                fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return pathlib.Path(path)


def html_page(svg: str, *, title: Optional[str] = None, extra_html: str = "") -> str:
    """A page that needs nothing else: the SVG inline (the XML prolog dropped, which HTML does not
    allow mid-document)."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    head = html.escape(title or "rnabert")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{head}</title>"
        "<style>body{font-family:sans-serif;margin:1em}svg{max-width:100%;height:auto}"
        "pre{font-size:13px;line-height:1.25}</style></head><body>\n"
        f"<div class='figure'>{body}</div>\n{extra_html}\n</body></html>\n"
    )
