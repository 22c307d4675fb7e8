"""Student text inside Streamlit Markdown (st.markdown, st.caption, st.warning…).

Text from a shared link or an upload must not become a link, an image or
formatting. Backslash escaping is not enough: Streamlit turns bare URLs into
links after parsing. Inside a code span Markdown parses nothing.
"""
import re


def code_span(text: str) -> str:
    """`text` as one Markdown code span, for student text inside st.markdown, st.caption,
    st.warning…: Markdown parses nothing inside a code span (no link, emphasis, :icon:, $formula$,
    and no bare URL made a link). The fence is one backtick longer than the text's longest run of
    backticks, and line breaks become spaces (a blank line would end the span)."""
    text = re.sub(r"\r\n|\r|\n", " ", text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""  # Markdown strips one space each side
    return f"{fence}{pad}{text}{pad}{fence}"
