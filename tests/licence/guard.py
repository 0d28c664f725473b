#!/usr/bin/env python3
"""Licence guard: no AGPL-licensed code is fetched, built or run by the build, tests, CI or demo.

Lists every Go module compiled into the given binaries, every Python distribution
installed in the test virtualenv and every npm package under the given
node_modules trees, each with its licence, prints the table and fails (exit 1)
on an AGPL licence, and on a licence it cannot determine unless the package is
listed in the exceptions file with a reason. Other licences (GPL, LGPL, MPL,
...) are shown as they are and pass.

    python tests/licence/guard.py [--go-binary PATH ...] [--python VENV_PYTHON | --skip-python]
                                  [--npm-dir DIR ...] [--exceptions FILE] [--markdown]

Exit status: 0 clean, 1 AGPL or undetermined licence, 2 usage or tool error.
Stdlib only: it runs in the test virtualenv but needs nothing installed there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_EXCEPTIONS = HERE / "exceptions.txt"

OK = "ok"
AGPL = "AGPL"
UNDETERMINED = "undetermined"
EXCEPTION = "exception"
NOT_CHECKED = "not checked"
KINDS = ("go", "python", "npm")

# Bytes read from one licence file; licence texts are far smaller.
MAX_TEXT = 512 * 1024
# A Python `License` field shorter than this is a name, longer ones are a text.
SHORT_LICENSE_FIELD = 100


class GuardError(Exception):
    """A tool or input problem: the guard cannot give a verdict (exit 2)."""


# ---------------------------------------------------------------------------
# Licence identifiers and SPDX expressions
# ---------------------------------------------------------------------------

# SPDX identifiers (and a few common non-SPDX family names) accepted as naming a
# licence. The GPL family is matched by pattern below.
_KNOWN_IDS = (
    "0BSD AFL-2.1 AFL-3.0 Apache-1.0 Apache-1.1 Apache-2.0 APSL-2.0 Artistic-1.0 Artistic-2.0 BlueOak-1.0.0 "
    "BSD BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear BSD-4-Clause BSL-1.0 "
    "BUSL-1.1 bzip2-1.0.6 CC-BY-3.0 CC-BY-4.0 CC-BY-SA-3.0 CC-BY-SA-4.0 CC0-1.0 CDDL-1.0 CDDL-1.1 CNRI-Python "
    "curl ECL-2.0 Elastic-2.0 EPL-1.0 EPL-2.0 EUPL-1.1 EUPL-1.2 HPND ISC JSON Libpng libpng-2.0 MirOS MIT MIT-0 "
    "MIT-CMU MPL-1.0 MPL-1.1 MPL-2.0 MPL-2.0-no-copyleft-exception MS-PL MulanPSL-2.0 NCSA OFL-1.1 OpenSSL "
    "PHP-3.01 PostgreSQL PSF-2.0 Public-Domain Python-2.0 Python-2.0.1 Ruby SSPL-1.0 Unicode-3.0 "
    "Unicode-DFS-2015 Unicode-DFS-2016 Unlicense UPL-1.0 Vim W3C W3C-20150513 WTFPL X11 Zlib ZPL-2.0 ZPL-2.1"
)
KNOWN_IDS = {i.lower(): i for i in _KNOWN_IDS.split()}

# Common spellings of licence names (lower case, whitespace collapsed).
ALIASES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "mit licence": "MIT",
    "expat": "MIT",
    "mit-0": "MIT-0",
    "apache": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "apache license": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "bsd": "BSD",
    "bsd license": "BSD",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "revised bsd": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd 3-clause license": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "simplified bsd": "BSD-2-Clause",
    "2-clause bsd": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "bsd 2-clause license": "BSD-2-Clause",
    "bsd-2": "BSD-2-Clause",
    "isc license": "ISC",
    "iscl": "ISC",
    "isc license (iscl)": "ISC",
    "mpl 2.0": "MPL-2.0",
    "mpl-2": "MPL-2.0",
    "mpl2": "MPL-2.0",
    "mozilla public license 2.0": "MPL-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "psf": "PSF-2.0",
    "psfl": "PSF-2.0",
    "psf license": "PSF-2.0",
    "psf-2": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "python software foundation": "PSF-2.0",
    "the unlicense": "Unlicense",
    "the unlicense (unlicense)": "Unlicense",
    "unlicence": "Unlicense",
    "public domain": "Public-Domain",
    "cc0": "CC0-1.0",
    "cc0 1.0": "CC0-1.0",
    "cc0 1.0 universal (cc0 1.0) public domain dedication": "CC0-1.0",
    "zlib/libpng": "Zlib",
    "zlib/libpng license": "Zlib",
    "zlib license": "Zlib",
    "zpl 2.1": "ZPL-2.1",
    "zope public license": "ZPL-2.1",
    "eclipse public license 2.0 (epl-2.0)": "EPL-2.0",
    "eclipse public license 1.0 (epl-1.0)": "EPL-1.0",
    "boost software license 1.0 (bsl-1.0)": "BSL-1.0",
    "historical permission notice and disclaimer (hpnd)": "HPND",
    "universal permissive license (upl)": "UPL-1.0",
    "academic free license (afl)": "AFL-3.0",
    "artistic license": "Artistic-2.0",
    "gnu affero general public license v3": "AGPL-3.0",
    "gnu affero general public license v3 or later (agplv3+)": "AGPL-3.0-or-later",
    "gnu general public license (gpl)": "GPL",
    "gnu general public license v2 (gplv2)": "GPL-2.0",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu general public license v3 (gplv3)": "GPL-3.0",
    "gnu general public license v3 or later (gplv3+)": "GPL-3.0-or-later",
    "gnu lesser general public license v2 (lgplv2)": "LGPL-2.0",
    "gnu lesser general public license v2 or later (lgplv2+)": "LGPL-2.0-or-later",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0",
    "gnu lesser general public license v3 or later (lgplv3+)": "LGPL-3.0-or-later",
    "gnu library or lesser general public license (lgpl)": "LGPL",
    "gnu free documentation license (fdl)": "GFDL",
}

# AGPL / GPL / LGPL in their many spellings: "GPLv3+", "GPL-2.0-only", "LGPL 2.1", "AGPL-3.0-or-later", ...
_GPL_FAMILY = re.compile(
    r"^(?P<fam>a|l)?gpl[- ]?v?(?P<ver>[123](?:\.[01])?)?(?P<later>\+|-or-later| or later|-only)?$",
    re.IGNORECASE,
)


def normalise_id(name: str) -> str | None:
    """The canonical identifier of one licence name, or None when it names no known licence."""
    key = " ".join(name.strip().split()).lower()
    if not key:
        return None
    if key in ALIASES:
        return ALIASES[key]
    if key in KNOWN_IDS:
        return KNOWN_IDS[key]
    m = _GPL_FAMILY.match(key)
    if m:
        fam = {"a": "AGPL", "l": "LGPL", None: "GPL"}[m.group("fam") and m.group("fam").lower()]
        ver = m.group("ver")
        if ver and "." not in ver:
            ver += ".0"
        ident = f"{fam}-{ver}" if ver else fam
        later = (m.group("later") or "").lower()
        if later:
            ident += "-only" if later == "-only" else "-or-later"
        return ident
    return None


def id_status(ident: str) -> str:
    """Only the AGPL fails; every other licence this guard can name passes."""
    return AGPL if ident.upper().startswith("AGPL") else OK


@dataclass(frozen=True)
class Licence:
    """What a package's licence was found to be, and from where."""

    text: str
    status: str  # OK, AGPL or UNDETERMINED
    source: str = ""


UNKNOWN_LICENCE = Licence("UNKNOWN", UNDETERMINED)

# Expression tree: ("id", name) | ("with", name, exception) | ("unknown", token) | ("or", [nodes]) | ("and", [nodes])
Node = tuple


def _tokens(expr: str) -> list[str]:
    return re.findall(r"\(|\)|[^\s()]+", expr)


def parse_expression(expr: str) -> Node | None:
    """Parse an SPDX-like expression (`MIT OR (Apache-2.0 AND BSD-3-Clause)`).

    Operators are matched case-insensitively, and an operand may be several
    words ("Apache License 2.0 or MIT"). A one-word operand that names no known
    licence (`LicenseRef-Custom`, `UNLICENSED`) is kept as unknown, so that
    `MIT OR LicenseRef-X` passes and `AGPL-3.0 AND LicenseRef-X` still fails.
    Returns None when a longer operand names no known licence or the expression
    is malformed.
    """
    tokens = _tokens(expr)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def is_op(tok: str | None, *ops: str) -> bool:
        return tok is not None and tok.upper() in ops

    def operand() -> str | None:
        nonlocal pos
        words = []
        while peek() is not None and peek() not in ("(", ")") and not is_op(peek(), "AND", "OR", "WITH"):
            words.append(tokens[pos])
            pos += 1
        return " ".join(words) or None

    def factor() -> Node | None:
        nonlocal pos
        if peek() == "(":
            pos += 1
            node = disjunction()
            if node is None or peek() != ")":
                return None
            pos += 1
            return node
        name = operand()
        if not name:
            return None
        ident = normalise_id(name)
        if ident is None:
            if not re.fullmatch(r"[A-Za-z0-9.+-]+", name):
                return None
            ident = ""
        if is_op(peek(), "WITH"):
            pos += 1
            exc = operand()
            if not exc:
                return None
            return ("with", ident, exc) if ident else ("unknown", f"{name} WITH {exc}")
        return ("id", ident) if ident else ("unknown", name)

    def chain(sub, op: str) -> Node | None:
        nonlocal pos
        nodes = [sub()]
        while is_op(peek(), op.upper()):
            pos += 1
            nodes.append(sub())
        if any(n is None for n in nodes):
            return None
        return nodes[0] if len(nodes) == 1 else (op, nodes)

    def conjunction() -> Node | None:
        return chain(factor, "and")

    def disjunction() -> Node | None:
        return chain(conjunction, "or")

    if not tokens:
        return None
    node = disjunction()
    if node is None or pos != len(tokens):
        return None
    return node


def node_status(node: Node) -> str:
    """OR: acceptable when any alternative is; AND: only when every part is."""
    kind = node[0]
    if kind in ("id", "with"):
        return id_status(node[1])
    if kind == "unknown":
        return UNDETERMINED
    statuses = [node_status(n) for n in node[1]]
    if kind == "or":
        return OK if OK in statuses else (AGPL if AGPL in statuses else UNDETERMINED)
    return AGPL if AGPL in statuses else (UNDETERMINED if UNDETERMINED in statuses else OK)


def node_text(node: Node, top: bool = True) -> str:
    kind = node[0]
    if kind in ("id", "unknown"):
        return node[1]
    if kind == "with":
        return f"{node[1]} WITH {node[2]}"
    inner = f" {kind.upper()} ".join(node_text(n, top=False) for n in node[1])
    return inner if top else f"({inner})"


def expression_licence(expr: str, source: str = "expression") -> Licence | None:
    """A declared licence expression (undetermined when it rests on unknown parts), or None when unreadable."""
    node = parse_expression(expr)
    if node is None:
        return None
    return Licence(node_text(node), node_status(node), source)


def name_licence(name: str, source: str) -> Licence | None:
    """A free-form licence name ("Apache License, Version 2.0", "MIT or Apache-2.0", "GPLv3+")."""
    lic = expression_licence(name, source)
    if lic is not None and lic.status != UNDETERMINED:
        return lic
    ids = classify_text(name)
    if ids == ["UNKNOWN"]:
        return lic
    return ids_licence(ids, source)


def ids_licence(ids: list[str], source: str) -> Licence:
    """Several licences found side by side (texts, NOTICE files): AGPL fails if any is AGPL."""
    if not ids or ids == ["UNKNOWN"]:
        return Licence("UNKNOWN", UNDETERMINED, source)
    unique = list(dict.fromkeys(ids))
    status = AGPL if any(id_status(i) == AGPL for i in unique) else OK
    return Licence(" + ".join(unique), status, source)


# ---------------------------------------------------------------------------
# Licence texts
# ---------------------------------------------------------------------------


def _normalise_text(text: str) -> str:
    """Lower case, punctuation (but . + -) to spaces, whitespace collapsed: robust to line wrapping and markup."""
    return " ".join(re.sub(r"[^a-z0-9.+-]+", " ", text.lower()).split())


# (identifier, pattern on the normalised text), tried in this order; every match is reported.
_TEXT_PATTERNS: list[tuple[str, str]] = [
    ("SSPL-1.0", r"server side public license"),
    ("BUSL-1.1", r"business source license"),
    ("Elastic-2.0", r"\belastic license\b"),
    (
        "Apache-2.0",
        r"apache license version 2\.0|apache license 2\.0|\bapache-2\.0\b|apache\.org licenses license-2\.0",
    ),
    ("Apache-1.1", r"apache software license version 1\.1"),
    ("MPL-2.0", r"mozilla public license (?:version |v\. ?|v)?2\.0|mozilla\.org mpl 2\.0|\bmpl-2\.0\b"),
    ("MPL-1.1", r"mozilla public license (?:version |v\. ?|v)?1\.1|mozilla\.org mpl 1\.1"),
    ("EPL-2.0", r"eclipse public license (?:- )?(?:v |version )?2\.0"),
    ("EPL-1.0", r"eclipse public license (?:- )?(?:v |version )?1\.0"),
    ("CDDL", r"common development and distribution license"),
    ("EUPL", r"european union public licen[cs]e"),
    ("BSL-1.0", r"boost software license"),
    ("Unlicense", r"this is free and unencumbered software released into the public domain"),
    ("CC0-1.0", r"\bcc0 1\.0\b|creative commons (?:legal code )?cc0|creativecommons\.org publicdomain zero"),
    ("CC-BY-SA-4.0", r"creative commons attribution-sharealike 4\.0"),
    ("CC-BY-4.0", r"creative commons attribution 4\.0"),
    ("OFL-1.1", r"sil open font license"),
    ("WTFPL", r"do what the fuck you want to public license"),
    ("BlueOak-1.0.0", r"blue oak model license"),
    ("UPL-1.0", r"universal permissive license"),
    ("Artistic", r"\bartistic license\b"),
    ("GFDL", r"gnu free documentation license"),
    ("PSF-2.0", r"python software foundation license|psf license agreement|license agreement for python"),
    ("Unicode", r"unicode data files and software|unicode license|unicode inc\. license agreement"),
    ("Zlib", r"the origin of this software must not be misrepresented"),
    ("MIT", r"permission is hereby granted free of charge to any person obtaining a copy|\bmit license\b"),
    ("0BSD", r"with or without fee is hereby granted\.? the software is provided"),
    (
        "ISC",
        r"permission to use copy modify and (?:or )?distribute this software for any purpose with or without fee "
        r"is hereby granted provided that|\bisc license\b",
    ),
    ("HPND", r"permission to use copy modify and distribute this software and its documentation for any purpose"),
    ("BSD", r"redistribution and use in source and binary forms with or without modification are permitted"),
    ("Public-Domain", r"(?:dedicated|released|placed) (?:in)?to the public domain"),
]

# Passages of standard licence texts that name other licences without granting them: the
# MPL-2.0's "Secondary License" definition (GPL, LGPL, AGPL), the GPL-3.0's section 13 (use
# with the AGPL), the AGPL-3.0's section 13 (use with the GPL), the GPL's words on the LGPL
# for libraries and the GFDL's on the GPL. Removed before the GNU
# licences are looked for, so that an MPL or GPL text is not taken for an AGPL one.
_REFERENCE_PASSAGES = re.compile(
    r"secondary license means either the gnu general public license.{0,300}?any later versions of those licenses"
    r"|use with the gnu affero general public license.{0,800}?apply to the combination as such"
    r"|use with the gnu general public license.{0,3000}?remain governed by version 3 of the gnu general public license"
    r"|(?:use|covered by) the gnu (?:lesser|library) general public license instead|why-not-lgpl\.html"
    r"|free software license such as the gnu general public license"
    r"|it complements the gnu general public license"
)
_AGPL_TEXT = re.compile(r"affero general public license|\bagpl(?:v?3|-3\.0)?\b")
_LGPL_TEXT = re.compile(r"gnu (?:lesser|library) general public license|\blgpl(?:v?[23](?:\.[01])?)?\b")
_GPL_TEXT = re.compile(r"gnu general public license|\bgplv?[23]?\b|\bgpl-[23]\.0\b")
# The full GPL's own title line, as opposed to the references to it that the AGPL and LGPL make.
_GPL_HEADER = re.compile(r"gnu general public license version [23] (?:june 1991|29 june 2007)")
_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*([^\n*]+?)\s*(?:\*/|-->)?\s*$", re.MULTILINE)


def _gnu_version(norm: str, family: str) -> str:
    if family == "LGPL" and re.search(r"version 2\.1|lgpl-?v?2\.1", norm):
        return "LGPL-2.1"
    if re.search(r"version 3|v3\b|-3\.0", norm):
        return f"{family}-3.0"
    if re.search(r"version 2|v2\b|-2\.0", norm):
        return f"{family}-2.0"
    if re.search(r"version 1\b", norm):
        return f"{family}-1.0"
    return family


def classify_text(text: str) -> list[str]:
    """Every licence recognised in a licence text, in a fixed order; ["UNKNOWN"] when none is.

    The AGPL is looked for first: its text also speaks of the GNU General
    Public License, which must not hide it or be reported as a GPL of its own.
    """
    found: list[str] = []
    for expr in _SPDX_LINE.findall(text):
        node = parse_expression(expr)
        if node is not None:
            found.extend(n for n in _leaf_ids(node) if n not in found)
    norm = _normalise_text(text)
    gnu = _REFERENCE_PASSAGES.sub(" ", norm)
    gnu_found = False
    if _AGPL_TEXT.search(gnu):
        found.append(_gnu_version(gnu, "AGPL"))
        gnu_found = True
    if _LGPL_TEXT.search(gnu):
        found.append(_gnu_version(gnu, "LGPL"))
        gnu_found = True
    header = _GPL_HEADER.search(gnu)
    if header or (not gnu_found and _GPL_TEXT.search(gnu)):
        found.append(_gnu_version(header.group(0) if header else gnu, "GPL"))
    for ident, pattern in _TEXT_PATTERNS:
        if not re.search(pattern, norm):
            continue
        if ident == "BSD":
            ident = _bsd_variant(norm)
        elif ident == "MIT" and "permission is hereby granted" in norm and "shall be included" not in norm:
            ident = "MIT-0"
        elif ident == "Artistic":
            ident = "Artistic-2.0" if re.search(r"artistic license 2\.0|version 2\.0", norm) else "Artistic-1.0"
        elif ident == "Public-Domain" and found:
            continue
        if ident not in found:
            found.append(ident)
    return found or ["UNKNOWN"]


def _bsd_variant(norm: str) -> str:
    if "all advertising materials" in norm:
        return "BSD-4-Clause"
    if "neither the name" in norm or "endorse or promote products" in norm:
        return "BSD-3-Clause"
    return "BSD-2-Clause"


def _leaf_ids(node: Node) -> Iterator[str]:
    if node[0] in ("id", "with"):
        yield node[1]
    elif node[0] in ("or", "and"):
        for n in node[1]:
            yield from _leaf_ids(n)


# ---------------------------------------------------------------------------
# Licence files in a package directory (Go module cache, npm package)
# ---------------------------------------------------------------------------

_LICENCE_FILE = re.compile(r"^(?:un)?licen[cs]es?(?:[-._ ].*)?$|^copying(?:[-._ ].*)?$|^notice(?:[-._ ].*)?$", re.I)
_CODE_EXTS = "go py pyi js mjs cjs ts json yaml yml html css sh c h rs java tmpl tpl proto xml toml pyc map"
_CODE_EXT = frozenset(_CODE_EXTS.split())


def is_licence_file_name(name: str) -> bool:
    """LICENSE, LICENSE.md, LICENCE.txt, license, COPYING, COPYING.LESSER, LICENSE-APACHE, NOTICE, UNLICENSE, ..."""
    if not _LICENCE_FILE.match(name):
        return False
    ext = name.rsplit(".", 1)[1].lower() if "." in name else ""
    return ext not in _CODE_EXT


def _read_text(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TEXT)
    except OSError:
        return None
    if b"\0" in data[:1024]:
        return None
    return data.decode("utf-8", errors="replace")


def licence_files(directory: Path) -> list[tuple[str, str]]:
    """(name, text) of the licence files at the top of a package directory.

    Also reads a REUSE-style LICENSES/ folder. Files are taken in name order.
    """
    out: list[tuple[str, str]] = []
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError:
        return out
    for entry in entries:
        if not is_licence_file_name(entry.name):
            continue
        if entry.is_file():
            text = _read_text(entry)
            if text is not None:
                out.append((entry.name, text))
        elif entry.is_dir() and entry.name.upper() in ("LICENSES", "LICENCES"):
            for sub in sorted(entry.iterdir(), key=lambda p: p.name):
                text = _read_text(sub) if sub.is_file() else None
                if text is None:
                    continue
                ids = classify_text(text)
                if ids == ["UNKNOWN"]:
                    # REUSE names each file by its SPDX identifier.
                    stem = sub.name.rsplit(".", 1)[0]
                    text = f"SPDX-License-Identifier: {stem}" if normalise_id(stem) else text
                out.append((f"{entry.name}/{sub.name}", text))
    return out


def texts_licence(files: list[tuple[str, str]]) -> Licence:
    """Every licence found in the given texts; UNKNOWN when none is recognised."""
    if not files:
        return Licence("UNKNOWN", UNDETERMINED, "no licence file")
    ids: list[str] = []
    for _, text in files:
        ids.extend(i for i in classify_text(text) if i != "UNKNOWN")
    return ids_licence(ids, ", ".join(name for name, _ in files))


def directory_licence(directory: Path) -> Licence:
    """The licence of a package directory from its licence files (used for Go modules)."""
    return texts_licence(licence_files(directory))


# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------


@dataclass
class Package:
    kind: str
    name: str
    version: str
    licence: Licence
    used_by: list[str] = field(default_factory=list)
    verdict: str = ""
    note: str = ""
    checked: bool = True


def _run(cmd: list[str], cwd: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GuardError(f"cannot run {cmd[0]}: {exc}") from exc


# ----------------------------------- Go ------------------------------------


@dataclass
class GoDep:
    path: str
    version: str
    replace_path: str = ""
    replace_version: str = ""

    @property
    def local_replace(self) -> bool:
        return bool(self.replace_path) and (
            self.replace_path.startswith(("/", "./", "../")) or not self.replace_version
        )


@dataclass
class GoBuildInfo:
    """A binary's module list. A main module built from a local tree has version "(devel)"; one built
    as `go build module/cmd/x` from a wrapper module has its real version and is checked like a dep."""

    binary: str
    go_version: str
    main_path: str
    deps: list[GoDep]
    main_version: str = ""

    @property
    def local_main(self) -> bool:
        return bool(self.main_path) and self.main_version in ("", "(devel)")


def go_build_info(binary: str) -> GoBuildInfo:
    """`go version -m BINARY`: the Go version, the main module and every dep (with its replacement)."""
    proc = _run(["go", "version", "-m", binary])
    if proc.returncode != 0:
        raise GuardError(f"go version -m {binary}: {proc.stderr.strip() or proc.stdout.strip()}")
    lines = proc.stdout.splitlines()
    go_version = lines[0].rsplit(":", 1)[-1].strip() if lines else ""
    main_path = main_version = ""
    deps: list[GoDep] = []
    for line in lines[1:]:
        parts = line.strip("\n").split("\t")
        if len(parts) < 3 or parts[0] != "":
            continue
        tag, rest = parts[1], parts[2:]
        if tag == "mod":
            main_path = rest[0]
            main_version = rest[1] if len(rest) > 1 else ""
        elif tag == "dep":
            deps.append(GoDep(rest[0], rest[1] if len(rest) > 1 else ""))
        elif tag == "=>" and deps:
            deps[-1].replace_path = rest[0]
            version = rest[1] if len(rest) > 1 else ""
            deps[-1].replace_version = "" if version in ("", "(devel)") else version
    if not main_path and not deps:
        raise GuardError(f"{binary}: no module information (not built in module mode?)")
    info = GoBuildInfo(binary, go_version, main_path, deps, main_version)
    if main_path and not info.local_main:
        # The main package comes from a published module (`go build example.com/m/cmd/x` in a wrapper
        # module): that module is fetched like a dependency, and its licence is checked.
        info.deps.insert(0, GoDep(main_path, main_version))
    return info


def _go_env() -> dict:
    env = dict(os.environ)
    flags = [f for f in env.get("GOFLAGS", "").split() if not f.startswith("-mod=")]
    env["GOFLAGS"] = " ".join(flags)
    env.update(GOWORK="off", GO111MODULE="on")
    return env


def go_module_dirs(modules: Iterable[tuple[str, str]], batch: int = 100) -> dict[tuple[str, str], str]:
    """Source directories of module@version in the module cache, by `go mod download -json`.

    It fetches a module missing from the cache and works offline for cached ones.
    Runs in an empty temporary directory, so no go.mod or go.work applies. A
    module that cannot be had maps to "error: <message>".
    """
    wanted = sorted(set(modules))
    found: dict[tuple[str, str], str] = {}
    env = _go_env()
    with tempfile.TemporaryDirectory(prefix="licence-guard-") as tmp:
        for i in range(0, len(wanted), batch):
            args = [f"{p}@{v}" for p, v in wanted[i : i + batch]]
            proc = _run(["go", "mod", "download", "-json", *args], cwd=tmp, env=env)
            decoder = json.JSONDecoder()
            text, pos = proc.stdout, 0
            while True:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                if pos >= len(text):
                    break
                obj, pos = decoder.raw_decode(text, pos)
                key = (obj.get("Path", ""), obj.get("Version", ""))
                found[key] = obj.get("Dir") or f"error: {obj.get('Error', 'no directory')}"
            if proc.returncode != 0 and not proc.stdout.strip():
                raise GuardError(f"go mod download: {proc.stderr.strip()}")
    for key in wanted:
        found.setdefault(key, "error: not reported by go mod download")
    return found


def go_root_licence() -> Licence:
    proc = _run(["go", "env", "GOROOT"])
    root = proc.stdout.strip()
    if proc.returncode != 0 or not root:
        return Licence("UNKNOWN", UNDETERMINED, "go env GOROOT failed")
    lic = directory_licence(Path(root))
    return Licence(lic.text, lic.status, f"{root}/LICENSE")


def collect_go(binaries: list[str]) -> list[Package]:
    if not binaries:
        return []
    if shutil.which("go") is None:
        raise GuardError("go is not on PATH: it is needed to read the Go binaries' module lists")
    infos = []
    for binary in dict.fromkeys(binaries):
        if not os.path.isfile(binary):
            raise GuardError(f"Go binary not found: {binary}")
        infos.append(go_build_info(binary))

    packages: dict[str, Package] = {}
    to_fetch: set[tuple[str, str]] = set()
    for info in infos:
        for dep in info.deps:
            if dep.local_replace:
                continue
            to_fetch.add((dep.replace_path, dep.replace_version) if dep.replace_path else (dep.path, dep.version))
    dirs = go_module_dirs(to_fetch) if to_fetch else {}

    std_versions: dict[str, list[str]] = {}
    for info in infos:
        name = os.path.basename(info.binary)
        if info.local_main:
            key = f"main {info.main_path}"
            if key in packages:
                packages[key].used_by.append(name)
            else:
                packages[key] = Package("go", info.main_path, "(devel)", UNKNOWN_LICENCE, [name], checked=False)
        std_versions.setdefault(info.go_version or "?", []).append(name)
        for dep in info.deps:
            version = dep.version
            label = dep.path
            if dep.replace_path:
                label = f"{dep.path} => {dep.replace_path}"
                version = f"{dep.version} => {dep.replace_version or '(local)'}"
            key = f"{label} {version}"
            if key in packages:
                packages[key].used_by.append(name)
                continue
            if dep.local_replace:
                directory = Path(dep.replace_path)
                if not directory.is_absolute():
                    directory = Path(info.binary).resolve().parent / directory
                lic = (
                    directory_licence(directory)
                    if directory.is_dir()
                    else Licence("UNKNOWN", UNDETERMINED, f"local replacement {dep.replace_path} not found")
                )
            else:
                mod = (dep.replace_path, dep.replace_version) if dep.replace_path else (dep.path, dep.version)
                where = dirs.get(mod, "error: not downloaded")
                if where.startswith("error: "):
                    lic = Licence("UNKNOWN", UNDETERMINED, f"go mod download {mod[0]}@{mod[1]}: {where[7:]}")
                else:
                    lic = directory_licence(Path(where))
            packages[key] = Package("go", label, version, lic, [name])
    for pkg in packages.values():
        if not pkg.checked:
            pkg.licence = Licence(f"main module ({', '.join(pkg.used_by)})", OK, "not checked")
    if std_versions:
        std_lic = go_root_licence()
        for version, users in sorted(std_versions.items()):
            packages[f"std {version}"] = Package("go", "std (Go standard library)", version, std_lic, users)
    return list(packages.values())


# --------------------------------- Python ----------------------------------

# Runs under the virtualenv's interpreter (any Python 3.8+): prints every installed distribution as JSON.
PYTHON_SNIPPET = r"""
import json, re, sys
from importlib import metadata
LIC = re.compile(r"^(?:un)?licen[cs]es?(?:[-._ ].*)?$|^copying(?:[-._ ].*)?$|^notice(?:[-._ ].*)?$", re.I)
CODE = (".py", ".pyc", ".pyi", ".so", ".json", ".js", ".html", ".c", ".h")
LIMIT = @LIMIT@
def read(path):
    try:
        with open(str(path), "rb") as fh:
            return fh.read(LIMIT).decode("utf-8", "replace")
    except OSError:
        return None
out, seen = [], set()
for dist in metadata.distributions():
    md = dist.metadata
    name = md["Name"] or ""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if not name or key in seen:
        continue
    seen.add(key)
    texts, info, other = {}, [], []
    for f in dist.files or ():
        base = f.parts[-1]
        if not LIC.match(base) or base.lower().endswith(CODE):
            continue
        (info if f.parts[0].endswith((".dist-info", ".egg-info")) else other).append(f)
    for f in (info or other)[:40]:
        rel = "/".join(f.parts[1:]) if f in info else str(f)
        text = read(f.locate())
        if text is not None:
            texts[rel] = text
    for lf in md.get_all("License-File") or ():
        for rel in ("licenses/" + lf, lf):
            if rel in texts:
                break
            try:
                text = dist.read_text(rel)
            except (OSError, UnicodeDecodeError):
                text = None
            if text is not None:
                texts[rel] = text[:LIMIT]
                break
    out.append({
        "name": name,
        "version": dist.version or "",
        "license_expression": md.get("License-Expression") or "",
        "license": md.get("License") or "",
        "classifiers": [c for c in (md.get_all("Classifier") or ()) if c.startswith("License ::")],
        "files": sorted(texts.items()),
    })
json.dump(out, sys.stdout)
""".replace("@LIMIT@", str(MAX_TEXT))

# Classifiers that name no licence: the next source is tried.
_VAGUE_CLASSIFIERS = {"osi approved", "other/proprietary license", "freely distributable", "freeware", "dfsg approved"}


def classifier_licence(classifiers: list[str]) -> Licence | None:
    """`License :: OSI Approved :: Apache Software License` -> Apache-2.0; several classifiers are alternatives."""
    ids: list[str] = []
    for classifier in classifiers:
        parts = [p.strip() for p in classifier.split("::")]
        if len(parts) < 2 or parts[0] != "License":
            continue
        last = parts[-1]
        if last.lower() in _VAGUE_CLASSIFIERS:
            continue
        ident = normalise_id(last)
        if ident is None:
            # "Mozilla Public License 2.0 (MPL 2.0)" and the like: the name in brackets, then the text patterns.
            m = re.search(r"\(([^()]+)\)\s*$", last)
            ident = normalise_id(m.group(1)) if m else None
        if ident is None:
            found = classify_text(last)
            ident = found[0] if found != ["UNKNOWN"] else None
        if ident is None:
            ident = "UNKNOWN"
        if ident not in ids:
            ids.append(ident)
    known = [i for i in ids if i != "UNKNOWN"]
    if not known:
        return None
    node: Node = ("id", known[0]) if len(known) == 1 else ("or", [("id", i) for i in known])
    return Licence(node_text(node), node_status(node), "classifiers")


def python_licence(dist: dict) -> Licence:
    """Licence-Expression, then classifiers, then a short License field, then the licence texts."""
    expr = dist.get("license_expression", "").strip()
    declared = expression_licence(expr, "License-Expression") if expr else None
    if declared is not None and declared.status != UNDETERMINED:
        return declared
    lic = classifier_licence(dist.get("classifiers", []))
    if lic is not None:
        return lic
    field_text = dist.get("license", "").strip()
    files = [tuple(f) for f in dist.get("files", [])]
    if field_text and field_text.upper() not in ("UNKNOWN", "NONE", "OTHER", "CUSTOM"):
        if len(field_text) < SHORT_LICENSE_FIELD and "\n" not in field_text:
            lic = name_licence(field_text, "License field")
            if lic is not None and lic.status != UNDETERMINED:
                return lic
        else:
            files.insert(0, ("License field", field_text))
    if files:
        lic = texts_licence(files)
        if lic.status != UNDETERMINED:
            return lic
    if declared is not None:
        return declared
    return Licence("UNKNOWN", UNDETERMINED, "no licence in metadata or files")


def _venv_label(python: str) -> str:
    p = Path(python)
    return p.parent.parent.name if p.parent.name in ("bin", "Scripts") else python


def collect_python(python: str) -> list[Package]:
    proc = _run([python, "-c", PYTHON_SNIPPET])
    if proc.returncode != 0:
        raise GuardError(f"{python} could not list its distributions: {proc.stderr.strip()[-2000:]}")
    try:
        dists = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise GuardError(f"{python} printed no distribution list: {exc}") from exc
    label = _venv_label(python)
    return [Package("python", d["name"], d["version"], python_licence(d), [label]) for d in dists]


# ---------------------------------- npm ------------------------------------


def npm_declared(pkg: dict) -> str:
    """The licence a package.json declares: `license` (string or {type}) or the legacy `licenses` array."""
    lic = pkg.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if isinstance(lic, str) and lic.strip():
        return lic.strip()
    lics = pkg.get("licenses")
    if isinstance(lics, (str, dict)):
        lics = [lics]
    if isinstance(lics, list):
        names = [x.get("type") if isinstance(x, dict) else x for x in lics]
        names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
        if len(names) == 1:
            return names[0]
        if names:
            return " OR ".join(f"({n})" for n in names)
    return ""


def npm_licence(pkg: dict, directory: Path) -> Licence:
    declared = npm_declared(pkg)
    if declared:
        m = re.match(r"SEE LICEN[CS]E IN (.+)", declared, re.I)
        if m:
            target = directory / m.group(1).strip()
            text = _read_text(target) if target.is_file() else None
            if text is not None:
                return texts_licence([(m.group(1).strip(), text)])
        else:
            lic = name_licence(declared, "package.json")
            if lic is not None and lic.status != UNDETERMINED:
                return lic
    files = licence_files(directory)
    if files:
        lic = texts_licence(files)
        if lic.status != UNDETERMINED:
            return lic
    note = f"package.json says {declared!r}" if declared else "no licence in package.json or files"
    return Licence("UNKNOWN", UNDETERMINED, note)


def _node_modules(directory: Path) -> Path | None:
    if (directory / "node_modules").is_dir():
        return directory / "node_modules"
    if directory.name == "node_modules" and directory.is_dir():
        return directory
    return None


def walk_node_modules(node_modules: Path) -> Iterator[Path]:
    """Every package directory under node_modules: nested, scoped (@scope/name) and pnpm's .pnpm store."""
    seen: set[Path] = set()
    stack = [node_modules]
    while stack:
        nm = stack.pop()
        try:
            entries = sorted(nm.iterdir(), key=lambda p: p.name)
        except OSError:
            continue
        candidates: list[Path] = []
        for entry in entries:
            if entry.name == ".pnpm" and entry.is_dir():
                stack.extend(sorted(p / "node_modules" for p in entry.iterdir() if (p / "node_modules").is_dir()))
            elif entry.name.startswith("."):
                continue
            elif entry.name.startswith("@") and entry.is_dir():
                candidates.extend(sorted(entry.iterdir(), key=lambda p: p.name))
            else:
                candidates.append(entry)
        for pkg_dir in candidates:
            if not (pkg_dir / "package.json").is_file():
                continue
            real = pkg_dir.resolve()
            if real in seen:
                continue
            seen.add(real)
            yield pkg_dir
            if (pkg_dir / "node_modules").is_dir():
                stack.append(pkg_dir / "node_modules")


def collect_npm(dirs: list[str]) -> list[Package]:
    packages: dict[str, Package] = {}
    for d in dirs:
        nm = _node_modules(Path(d))
        if nm is None:
            continue
        label = Path(d).name if Path(d).name != "node_modules" else Path(d).parent.name
        for pkg_dir in walk_node_modules(nm):
            try:
                pkg = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pkg = {}
            if not isinstance(pkg, dict):
                pkg = {}
            name = pkg.get("name") or (
                f"{pkg_dir.parent.name}/{pkg_dir.name}" if pkg_dir.parent.name.startswith("@") else pkg_dir.name
            )
            version = str(pkg.get("version") or "")
            key = f"{name} {version}"
            if key in packages:
                if label not in packages[key].used_by:
                    packages[key].used_by.append(label)
                continue
            packages[key] = Package("npm", name, version, npm_licence(pkg, pkg_dir), [label])
    return list(packages.values())


# ------------------------------- Exceptions --------------------------------


@dataclass
class ExceptionEntry:
    kind: str
    name: str
    version: str
    reason: str
    line: int
    used: bool = False


def _norm_name(kind: str, name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower() if kind == "python" else name


def load_exceptions(path: Path) -> list[ExceptionEntry]:
    """Lines `kind name[@version] reason`; blank lines and `#` comments are skipped."""
    out = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[0] not in KINDS:
            raise GuardError(f"{path}:{n}: expected `go|python|npm NAME[@VERSION] REASON`, got {raw!r}")
        kind, name, reason = parts
        version = ""
        at = name.rfind("@")
        if at > 0:
            name, version = name[:at], name[at + 1 :]
        out.append(ExceptionEntry(kind, name, version, reason, n))
    return out


def apply_verdicts(packages: list[Package], exceptions: list[ExceptionEntry], kinds_checked: set[str]) -> list[str]:
    """Set each package's verdict; return warning lines (stale or unneeded exceptions)."""
    warnings = []
    for pkg in packages:
        if not pkg.checked:
            pkg.verdict = NOT_CHECKED
            continue
        matches = [
            e
            for e in exceptions
            if e.kind == pkg.kind
            and _norm_name(e.kind, e.name) == _norm_name(pkg.kind, pkg.name.split(" => ")[0])
            and (not e.version or e.version == pkg.version.split(" => ")[0])
        ]
        for e in matches:
            e.used = True
        if pkg.licence.status == AGPL:
            pkg.verdict = AGPL
            if matches:
                warnings.append(f"exception for {pkg.kind} {pkg.name} ignored: an AGPL licence cannot be excepted")
        elif pkg.licence.status == UNDETERMINED:
            if matches:
                pkg.verdict = EXCEPTION
                pkg.note = matches[0].reason
            else:
                pkg.verdict = UNDETERMINED
        else:
            pkg.verdict = OK
            for e in matches:
                warnings.append(
                    f"exception line {e.line} ({e.kind} {e.name}) not needed: licence determined as {pkg.licence.text}"
                )
    for e in exceptions:
        if not e.used and e.kind in kinds_checked:
            ver = f"@{e.version}" if e.version else ""
            warnings.append(f"stale exception line {e.line}: {e.kind} {e.name}{ver} matches no package checked")
    return warnings


# --------------------------------- Output ----------------------------------

COLUMNS = ("kind", "name", "version", "licence", "used by", "verdict")


def _row(pkg: Package) -> tuple[str, ...]:
    return (pkg.kind, pkg.name, pkg.version, pkg.licence.text, ", ".join(pkg.used_by), pkg.verdict)


def render_table(packages: list[Package], markdown: bool) -> str:
    rows = [_row(p) for p in packages]
    if markdown:

        def cell(s: str) -> str:
            return s.replace("|", "\\|")

        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max([len(COLUMNS[i])] + [len(r[i]) for r in rows]) for i in range(len(COLUMNS))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*COLUMNS).rstrip(), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r).rstrip() for r in rows]
    return "\n".join(lines)


def _sort_key(pkg: Package) -> tuple:
    return (KINDS.index(pkg.kind), pkg.checked, pkg.name.lower(), pkg.version)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--go-binary", action="append", default=[], metavar="PATH", help="a Go binary (repeatable)")
    ap.add_argument(
        "--python",
        metavar="PATH",
        default=sys.executable,
        help="the test virtualenv's python (default: the one running the guard)",
    )
    ap.add_argument("--skip-python", action="store_true", help="do not list Python distributions")
    ap.add_argument(
        "--npm-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory holding node_modules, or a node_modules dir (repeatable)",
    )
    ap.add_argument(
        "--exceptions",
        metavar="FILE",
        help=f"exceptions file (default: {DEFAULT_EXCEPTIONS.name} beside the guard, when present)",
    )
    ap.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    ap.add_argument(
        "--go-modcache",
        action="store_true",
        help="also scan every module in the Go module cache (go env GOMODCACHE), fetched or built,\n"
        "and fail on any AGPL one: what the platform fetched must be clean too",
    )
    return ap.parse_args(argv)


def scan_modcache(root: Path) -> tuple[int, list[str]]:
    """Every module directory (`path@version`) in a Go module cache; the AGPL ones by name."""
    count, agpl = 0, []
    for dirpath, dirnames, _ in os.walk(root):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d != "cache"]  # the download cache: zips of the same modules
        modules = [d for d in dirnames if "@" in d]
        for d in modules:
            count += 1
            lic = directory_licence(Path(dirpath) / d)
            if lic.status == AGPL:
                agpl.append(f"{Path(dirpath, d).relative_to(root)} ({lic.text} [from {lic.source}])")
        dirnames[:] = [d for d in dirnames if "@" not in d]
    return count, agpl


def run(args: argparse.Namespace, out=sys.stdout) -> int:
    start = time.monotonic()
    exc_path = Path(args.exceptions) if args.exceptions else DEFAULT_EXCEPTIONS
    if args.exceptions and not exc_path.is_file():
        raise GuardError(f"exceptions file not found: {exc_path}")
    exceptions = load_exceptions(exc_path) if exc_path.is_file() else []

    packages = collect_go(args.go_binary)
    kinds_checked = {"npm"}
    if args.go_binary:
        kinds_checked.add("go")
    if not args.skip_python:
        packages += collect_python(args.python)
        kinds_checked.add("python")
    packages += collect_npm(args.npm_dir)
    packages.sort(key=_sort_key)
    warnings = apply_verdicts(packages, exceptions, kinds_checked)

    def say(line: str = "") -> None:
        print(line, file=out)

    say(render_table(packages, args.markdown))
    say()
    counts = {k: sum(1 for p in packages if p.kind == k and p.checked) for k in KINDS}
    if not args.go_binary:
        say("go: no Go binaries given")
    if args.skip_python:
        say("python: not checked (--skip-python)")
    if counts["npm"] == 0:
        say("npm: no npm packages installed by the tests")
    excepted = [p for p in packages if p.verdict == EXCEPTION]
    for p in excepted:
        say(f"exception: {p.kind} {p.name} {p.version}: {p.note}")
    for w in warnings:
        say(f"warning: {w}")
    failed = [p for p in packages if p.verdict in (AGPL, UNDETERMINED)]
    n_agpl = sum(1 for p in failed if p.verdict == AGPL)
    cache_agpl: list[str] = []
    if args.go_modcache:
        root = Path(_run(["go", "env", "GOMODCACHE"], env=_go_env()).stdout.strip())
        if not root.is_dir():
            raise GuardError(f"no Go module cache at {root}")
        n_cached, cache_agpl = scan_modcache(root)
        say(f"go module cache {root}: {n_cached} modules, {len(cache_agpl)} AGPL")
    unchecked = sum(1 for p in packages if not p.checked)
    summary = (
        f"licence guard: {sum(counts.values())} packages (go {counts['go']}, python {counts['python']}, "
        f"npm {counts['npm']}): {n_agpl} AGPL, {len(failed) - n_agpl} undetermined, {len(excepted)} "
        f"exception{'' if len(excepted) == 1 else 's'}"
    )
    if unchecked:
        summary += f"; {unchecked} main module{'' if unchecked == 1 else 's'} not checked"
    say(f"{summary} ({time.monotonic() - start:.1f}s)")
    if failed or cache_agpl:
        say()
        say("FAILED: no AGPL code may be fetched, built or run, and every licence must be known:")
        for name in cache_agpl:
            say(f"  go module cache: {name}: AGPL licence")
        for p in failed:
            why = "AGPL licence" if p.verdict == AGPL else "licence not determined (add an exception with a reason)"
            used = f", used by {', '.join(p.used_by)}" if p.used_by else ""
            say(f"  {p.kind} {p.name} {p.version}: {why}: {p.licence.text} [from {p.licence.source or '?'}]{used}")
        return 1
    return 0


def main(argv: list[str] | None = None, out=None) -> int:
    args = parse_args(argv)
    try:
        return run(args, out or sys.stdout)
    except GuardError as exc:
        print(f"licence guard: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
