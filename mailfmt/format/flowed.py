"""Reading text/plain; format=flowed (RFC 3676) into the lines it means.

A flowed line ends in a space: the writer wrapped a paragraph there, and the
reader joins it with the next line (RFC 3676 4.2). Quote depth is the number
of leading ">" (4.5), a space after them is stuffing (4.4), and "-- " (the
signature separator) never flows. The models hold text as lines, so a flowed
body is read into its paragraphs, one line each, and written back as plain
text, which keeps what the message says.
"""

from __future__ import annotations

__all__ = ["unflow"]

_SIG = "-- "


def unflow(text: str, *, delsp: bool = False) -> str:
    """The paragraphs of flowed ``text`` (CRLF line ends), each on one line,
    quoted lines prefixed by their depth in ">" and a space.

    >>> unflow("Hello \\r\\nworld.\\r\\n> quoted \\r\\n> text\\r\\n")
    'Hello world.\\r\\n> quoted text\\r\\n'
    >>> unflow("one-\\r\\nword \\r\\nend\\r\\n", delsp=True)
    'one-\\r\\nwordend\\r\\n'
    """
    lines = text.split("\r\n")
    # A final CRLF ends the last line; it does not open another.
    ended = lines[-1] == ""
    if ended:
        lines.pop()
    out: list[str] = []
    para: list[str] = []
    depth = -1      # the quote depth of the paragraph being joined
    for line in lines:
        d = len(line) - len(line.lstrip(">"))
        body = line[d:]
        if body.startswith(" "):
            body = body[1:]         # space-stuffing (4.4)
        if para and d != depth:
            # RFC 3676 4.5: a flowed line before a change of depth is fixed.
            out.append(_quoted(depth, "".join(para)))
            para = []
        depth = d
        flowed = body.endswith(" ") and body != _SIG
        if flowed and delsp:
            body = body[:-1]
        para.append(body)
        if not flowed:
            out.append(_quoted(depth, "".join(para)))
            para = []
    if para:
        out.append(_quoted(depth, "".join(para)))
    return "\r\n".join(out) + ("\r\n" if ended else "")


def _quoted(depth: int, text: str) -> str:
    return (">" * depth + " " + text) if depth else text
