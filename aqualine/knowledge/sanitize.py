"""The rich-text body of an article: sanitised with nh3 (ammonia) whenever it is saved, so that
what the pages print with `|safe` can hold no script, style, event handler or foreign image.

Allowed: paragraphs and headings, emphasis, lists, quotes, code, tables (with colspan/rowspan),
links (http, https, mailto, tel or relative; rel="noopener noreferrer" is forced) and images
whose source is one of our own attachment URLs (/knowledge/attachments/<id>/).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "div",
    "h2", "h3", "h4",
    "strong", "b", "em", "i", "u", "s", "sub", "sup", "mark", "small",
    "ul", "ol", "li",
    "blockquote", "pre", "code",
    "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td",
    "a", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Removed together with their content (nh3 keeps the text of other disallowed tags).
REMOVE_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "svg", "math"}

# What the editor inserts for a picture: our attachment view, nothing from elsewhere.
ATTACHMENT_SRC = re.compile(r"^/knowledge/attachments/[0-9]{1,18}/$")
_NUMBER = re.compile(r"^[0-9]{1,4}$")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if ATTACHMENT_SRC.match(value) else None
    if attribute in ("width", "height", "colspan", "rowspan", "span", "start"):
        return value if _NUMBER.match(value.strip()) else None
    return value


def sanitize_html(raw: str) -> str:
    """Safe HTML for an article body. An image left without a source is dropped."""
    cleaned = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        clean_content_tags=REMOVE_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return re.sub(r"<img(?![^>]*\ssrc=)[^>]*>", "", cleaned).strip()


_BLOCKS = {
    "p", "div", "br", "hr", "h2", "h3", "h4", "li", "ul", "ol", "blockquote", "pre",
    "table", "caption", "tr",
}  # fmt: skip
_CELLS = {"td", "th"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f" {alt} ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(body: str) -> str:
    """The plain text of a (sanitised) body: one line per paragraph, list item or table row."""
    parser = _TextExtractor()
    parser.feed(body)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
