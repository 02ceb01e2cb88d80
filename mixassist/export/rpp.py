"""A small reader and writer of REAPER's project text format (``.rpp``).

An RPP file is a tree of blocks: a block opens with ``<NAME arg ...`` on one line and closes with
``>`` on a line of its own; every other line is one item ``NAME arg ...``. Arguments are separated
by spaces; one that holds a space or a quote is quoted with ``"``, ``'`` or a backtick, whichever
it does not contain (REAPER's own rule; it has no escapes). Lines that are not items (the base64
state inside a ``<VST`` block, the ``|text`` lines of ``<NOTES``) are kept as lines with no
arguments. :class:`RppNode` is both a block and a line: a line has no children and
``block=False``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ExportError

_QUOTES = ('"', "'", "`")


@dataclass
class RppNode:
    """One block (``block=True``, with ``children``) or one line of an RPP file."""

    name: str
    args: list[str] = field(default_factory=list)
    children: list[RppNode] = field(default_factory=list)
    block: bool = False

    def add(self, name: str, *args, block: bool = False) -> RppNode:
        """Append a child line (or an empty block) ``name args...``; return it."""
        node = RppNode(name, [to_text(a) for a in args], block=block)
        self.children.append(node)
        return node

    def find(self, name: str) -> RppNode | None:
        """The first direct child called ``name``, or None."""
        return next(self.find_all(name), None)

    def find_all(self, name: str) -> Iterator[RppNode]:
        """Direct children called ``name``, in order."""
        return (c for c in self.children if c.name == name)

    def walk(self, name: str | None = None) -> Iterator[RppNode]:
        """Every node below this one (depth first), optionally only those called ``name``."""
        for child in self.children:
            if name is None or child.name == name:
                yield child
            yield from child.walk(name)

    def value(self, name: str, index: int = 0, default: str | None = None) -> str | None:
        """Argument ``index`` of the first child line ``name`` (``default`` when absent)."""
        node = self.find(name)
        if node is None or index >= len(node.args):
            return default
        return node.args[index]


def to_text(value) -> str:
    """An argument's text (unquoted): numbers in plain decimals (no exponent), booleans 0/1."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExportError(f"RPP: cannot write the number {value!r}")
        text = f"{value:.10f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def quote(text: str) -> str:
    """``text`` as one RPP argument: bare when it can be, else in a quote it does not contain."""
    if "\n" in text or "\r" in text:
        raise ExportError(f"RPP: an argument cannot hold a line break: {text!r}")
    if text and not any(c in text for c in ' \t"\'`') and text[0] not in "<>":
        return text
    for q in _QUOTES:
        if q not in text:
            return f"{q}{text}{q}"
    # REAPER's own fallback: the backtick is swapped for an apostrophe
    return "`" + text.replace("`", "'") + "`"


def split_args(line: str) -> list[str]:
    """Split one RPP line into its tokens, unquoting ``"..."``, ``'...'`` and ```...```."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i] in " \t":
            i += 1
            continue
        if line[i] in _QUOTES:
            q = line[i]
            end = line.find(q, i + 1)
            if end < 0:  # unterminated: the rest of the line
                out.append(line[i + 1:])
                break
            out.append(line[i + 1:end])
            i = end + 1
            continue
        end = i
        while end < n and line[end] not in " \t":
            end += 1
        out.append(line[i:end])
        i = end
    return out


def parse_rpp(text: str) -> RppNode:
    """Parse RPP ``text`` into its root block (``REAPER_PROJECT`` for a project file).

    Raises :class:`~mixassist.errors.ExportError` for text that is not one balanced block.
    """
    root: RppNode | None = None
    stack: list[RppNode] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("<"):
            tokens = split_args(line[1:])
            if not tokens:
                raise ExportError(f"RPP line {number}: a block with no name")
            node = RppNode(tokens[0], tokens[1:], block=True)
            if stack:
                stack[-1].children.append(node)
            elif root is not None:
                raise ExportError(f"RPP line {number}: a second top-level block")
            else:
                root = node
            stack.append(node)
        elif line == ">":
            if not stack:
                raise ExportError(f"RPP line {number}: '>' closes no block")
            stack.pop()
        elif not stack:
            raise ExportError(f"RPP line {number}: text outside the project block: {line[:40]!r}")
        elif stack[-1].name in ("NOTES",) or line.startswith("|"):
            stack[-1].children.append(RppNode(line))
        else:
            tokens = split_args(line)
            stack[-1].children.append(RppNode(tokens[0], tokens[1:]))
    if root is None:
        raise ExportError("RPP: no block found (an RPP file starts with '<REAPER_PROJECT')")
    if stack:
        raise ExportError(f"RPP: block <{stack[-1].name} is not closed with '>'")
    return root


def dumps(node: RppNode, indent: int = 0) -> str:
    """``node`` (and everything below it) as RPP text, two spaces per level, ending in a newline."""
    return "".join(_lines(node, indent))


def _lines(node: RppNode, level: int) -> Iterator[str]:
    pad = "  " * level
    head = " ".join([node.name, *(quote(a) for a in node.args)])
    if not node.block:
        yield f"{pad}{head}\n"
        return
    yield f"{pad}<{head}\n"
    for child in node.children:
        yield from _lines(child, level + 1)
    yield f"{pad}>\n"
