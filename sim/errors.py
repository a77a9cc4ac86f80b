"""Errors as one line: what Hydra, OmegaConf and the YAML parser say over many lines,
cut to the key, the value and what is allowed, or to the file, line and column."""

from __future__ import annotations

import io

import yaml

_HINTS = ("full_key:", "object_type=", "reference_type=", "Set the environment variable")


def one_line(ex: BaseException) -> str:
    """Hydra and OmegaConf explain over several lines; keep what names key, value, options.
    A config file that does not parse is named with the place: ``file:line:column: problem``."""
    place = unparsable(ex)
    if place:
        return place
    parts: list[str] = []
    for e in (ex, ex.__cause__):
        text = str(e or "").split("Config search path:")[0]
        head, _, options = text.partition("Available options in")
        lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
        if options:
            group, _, names = options.partition(":")
            lines.append(f"available in{group}: " + ", ".join(names.split()))
        parts += [ln for ln in lines if not ln.startswith(_HINTS) and ln not in parts]
    return "; ".join(parts)


def unparsable(ex: BaseException) -> str | None:
    """``file:line:column: problem`` for a config file that is not YAML, ``file: ...`` for
    one that is not UTF-8 text; None for anything else. Hydra lets the parser's error
    through unwrapped, its place spread over several lines; a decoding error names no file,
    but the file object being read is among the traceback's locals."""
    for e in (ex, ex.__cause__, ex.__context__):
        if isinstance(e, yaml.MarkedYAMLError) and e.problem_mark is not None:
            m, c = e.problem_mark, e.context_mark
            text = f"{m.name}:{m.line + 1}:{m.column + 1}: {e.problem}"
            if e.context:
                at = f" at {c.line + 1}:{c.column + 1}" if c and c.name == m.name else ""
                text += f" ({e.context}{at})"
            return text
        if isinstance(e, UnicodeDecodeError):
            files, tb = [], e.__traceback__
            while tb is not None:  # outermost first: the last file found was being read
                values = tb.tb_frame.f_locals.values()
                files += [v.name for v in values if isinstance(v, io.IOBase) and hasattr(v, "name")]
                tb = tb.tb_next
            if files:
                return f"{files[-1]}: not UTF-8 text (byte {e.object[e.start]:#x})"
    return None
