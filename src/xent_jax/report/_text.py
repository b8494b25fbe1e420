"""Line wrapping shared by the report modules."""

import textwrap


def wrap(text: str, indent: str = "", width: int = 96) -> list[str]:
    """Wrap ``text`` to ``width`` columns, keeping sums such as "1 − y" on one line."""
    # No-break spaces around − and + while wrapping, plain spaces again after.
    glued = text.replace(" − ", "\u00a0−\u00a0").replace(" + ", "\u00a0+\u00a0")
    lines = textwrap.wrap(
        glued, width=width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
    )
    return [line.replace("\u00a0", " ") for line in lines]
