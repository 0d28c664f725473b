"""The licence guard (tests/licence/guard.py): no AGPL code fetched, built or run.

Fast and offline: classification of sample texts, SPDX expressions, Python
classifiers, the npm walk and the exceptions file work on data written here;
the Python lister runs against this interpreter; the Go checks build tiny
programs with the real `go`, offline: modules come from a local `replace` or a
module proxy laid out on disk by the test (GOPROXY=file://...). No AGPL code is
involved anywhere: the AGPL module is a one-function package written here whose
LICENSE holds the AGPL's opening lines.
"""

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

GUARD_PATH = Path(__file__).resolve().parents[2] / "licence" / "guard.py"
_spec = importlib.util.spec_from_file_location("_licence_guard", GUARD_PATH)
guard = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = guard
_spec.loader.exec_module(guard)

APACHE = """
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION
"""

MIT = """MIT License

Copyright (c) 2020 Someone

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
"""

BSD3 = """Copyright 2009 The Go Authors.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are
met:

   * Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer.
   * Neither the name of Google LLC nor the names of its
contributors may be used to endorse or promote products derived from
this software without specific prior written permission.
"""

BSD2 = """Copyright (c) 2015, Someone
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice.
2. Redistributions in binary form must reproduce the above copyright notice.
"""

# The opening lines of the AGPL-3.0: enough for the guard, and no AGPL code anywhere.
AGPL3 = """                    GNU AFFERO GENERAL PUBLIC LICENSE
                       Version 3, 19 November 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 Everyone is permitted to copy and distribute verbatim copies
 of this license document, but changing it is not allowed.

                            Preamble

  The GNU Affero General Public License is a free, copyleft license for
software and other kinds of works, specifically designed to ensure
cooperation with the community in the case of network server software.

  13. Remote Network Interaction; Use with the GNU General Public License.

  Notwithstanding any other provision of this License, you have
permission to link or combine any covered work with a work licensed
under version 3 of the GNU General Public License into a single
combined work, and to convey the resulting work.  The terms of this
License will continue to apply to the part which is the covered work,
but the work with which it is combined will remain governed by version
3 of the GNU General Public License.
"""

AGPL3_NOTICE = """// This program is free software: you can redistribute it and/or modify
// it under the terms of the GNU Affero General Public License as published
// by the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
"""

GPL3 = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 Everyone is permitted to copy and distribute verbatim copies
 of this license document, but changing it is not allowed.

                            Preamble

  The GNU General Public License is a free, copyleft license for
software and other kinds of works.

  13. Use with the GNU Affero General Public License.

  Notwithstanding any other provision of this License, you have
permission to link or combine any covered work with a work licensed
under version 3 of the GNU Affero General Public License into a single
combined work, and to convey the resulting work.  The terms of this
License will continue to apply to the part which is the covered work,
but the special requirements of the GNU Affero General Public License,
section 13, concerning interaction through a network will apply to the
combination as such.
"""

# The MPL-2.0 names the GPL, LGPL and AGPL as "Secondary Licenses": it grants none of them.
MPL2 = """Mozilla Public License Version 2.0
==================================

1.12. "Secondary License"
    means either the GNU General Public License, Version 2.0, the GNU
    Lesser General Public License, Version 2.1, the GNU Affero General
    Public License, Version 3.0, or any later versions of those
    Licenses.
"""

LGPL3 = """                   GNU LESSER GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

  This version of the GNU Lesser General Public License incorporates
the terms and conditions of version 3 of the GNU General Public
License, supplemented by the additional permissions listed below.
"""

ISC = """ISC License

Copyright (c) 2012 Someone

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.
"""


# --------------------------------------------------------------- texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (APACHE, ["Apache-2.0"]),
        (MIT, ["MIT"]),
        (BSD3, ["BSD-3-Clause"]),
        (BSD2, ["BSD-2-Clause"]),
        (ISC, ["ISC"]),
        (AGPL3, ["AGPL-3.0"]),
        (AGPL3_NOTICE, ["AGPL-3.0"]),
        (GPL3, ["GPL-3.0"]),
        (LGPL3, ["LGPL-3.0"]),
        (MPL2, ["MPL-2.0"]),
        ("This is free and unencumbered software released into the public domain.\n", ["Unlicense"]),
        ("1. The origin of this software must not be misrepresented; you must not\n", ["Zlib"]),
        ("// SPDX-License-Identifier: Apache-2.0 OR MIT\n", ["Apache-2.0", "MIT"]),
        ("All rights reserved. Do not copy.\n", ["UNKNOWN"]),
        ("", ["UNKNOWN"]),
    ],
)
def test_classify_text(text, expected):
    assert guard.classify_text(text) == expected


def test_gpl_is_not_agpl():
    # The GPL-3.0's section 13 speaks of the AGPL: that does not make it an AGPL text.
    assert not any(i.startswith("AGPL") for i in guard.classify_text(GPL3))
    assert guard.ids_licence(guard.classify_text(GPL3), "COPYING").status == guard.OK


def test_agpl_text_is_not_also_reported_as_gpl():
    # Its section 13 speaks of the GNU General Public License: that is not a second licence.
    assert guard.classify_text(AGPL3) == ["AGPL-3.0"]


COMMON_LICENSES = Path("/usr/share/common-licenses")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Apache-2.0", ["Apache-2.0"]),
        ("BSD", ["BSD-3-Clause"]),
        ("GPL-2", ["GPL-2.0"]),
        ("GPL-3", ["GPL-3.0"]),
        ("LGPL-2.1", ["LGPL-2.1"]),
        ("LGPL-3", ["LGPL-3.0"]),
        ("MPL-2.0", ["MPL-2.0"]),
    ],
)
def test_full_licence_texts(name, expected):
    # Debian's copies of the full texts: the GPL-3.0 names the AGPL and the LGPL, the MPL-2.0 all three.
    path = COMMON_LICENSES / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: Debian's base-files ships it")
    assert guard.classify_text(path.read_text()) == expected


def test_text_with_several_licences_lists_all():
    assert guard.classify_text(BSD3 + "\n\n" + APACHE) == ["Apache-2.0", "BSD-3-Clause"]
    lic = guard.ids_licence(guard.classify_text(MIT + AGPL3), "LICENSE")
    assert lic.status == guard.AGPL
    assert "MIT" in lic.text
    assert "AGPL-3.0" in lic.text


# --------------------------------------------------------- expressions


@pytest.mark.parametrize(
    ("expr", "text", "status"),
    [
        ("MIT", "MIT", "ok"),
        ("(MIT OR Apache-2.0)", "MIT OR Apache-2.0", "ok"),
        ("MIT OR AGPL-3.0", "MIT OR AGPL-3.0", "ok"),
        ("MIT AND AGPL-3.0", "MIT AND AGPL-3.0", "AGPL"),
        ("AGPL-3.0-or-later", "AGPL-3.0-or-later", "AGPL"),
        ("AGPL-3.0-only OR SSPL-1.0", "AGPL-3.0-only OR SSPL-1.0", "ok"),
        ("(MIT OR AGPL-3.0) AND BSD-3-Clause", "(MIT OR AGPL-3.0) AND BSD-3-Clause", "ok"),
        (
            "BSD-3-Clause AND (AGPL-3.0 OR AGPL-3.0-or-later)",
            "BSD-3-Clause AND (AGPL-3.0 OR AGPL-3.0-or-later)",
            "AGPL",
        ),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0", "ok"),
        ("GPLv3+", "GPL-3.0-or-later", "ok"),
        ("LGPL-2.1-or-later", "LGPL-2.1-or-later", "ok"),
        ("Apache License 2.0 or MIT", "Apache-2.0 OR MIT", "ok"),
    ],
)
def test_expression(expr, text, status):
    lic = guard.expression_licence(expr)
    assert lic is not None
    assert (lic.text, lic.status) == (text, status)


@pytest.mark.parametrize(
    ("expr", "status"),
    [
        ("LicenseRef-Proprietary", "undetermined"),
        ("UNLICENSED", "undetermined"),
        ("MIT AND LicenseRef-Custom", "undetermined"),
        ("MIT OR LicenseRef-Custom", "ok"),
        ("AGPL-3.0-only AND LicenseRef-Custom", "AGPL"),
    ],
)
def test_expression_with_unknown_parts(expr, status):
    assert guard.expression_licence(expr).status == status


@pytest.mark.parametrize("expr", ["MIT OR", "(MIT", "MIT)", "Dual License", "SEE LICENSE IN LICENSE.txt", ""])
def test_unreadable_expression(expr):
    assert guard.expression_licence(expr) is None


# ---------------------------------------------------------------- python


@pytest.mark.parametrize(
    ("classifier", "text", "status"),
    [
        ("License :: OSI Approved :: Apache Software License", "Apache-2.0", "ok"),
        ("License :: OSI Approved :: BSD License", "BSD", "ok"),
        ("License :: OSI Approved :: MIT License", "MIT", "ok"),
        ("License :: OSI Approved :: ISC License (ISCL)", "ISC", "ok"),
        ("License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0", "ok"),
        ("License :: OSI Approved :: Python Software Foundation License", "PSF-2.0", "ok"),
        ("License :: OSI Approved :: GNU General Public License v3 (GPLv3)", "GPL-3.0", "ok"),
        (
            "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)",
            "LGPL-2.0-or-later",
            "ok",
        ),
        ("License :: OSI Approved :: GNU Affero General Public License v3", "AGPL-3.0", "AGPL"),
        (
            "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
            "AGPL-3.0-or-later",
            "AGPL",
        ),
        ("License :: Public Domain", "Public-Domain", "ok"),
    ],
)
def test_classifier_mapping(classifier, text, status):
    lic = guard.classifier_licence([classifier])
    assert (lic.text, lic.status) == (text, status)


def test_vague_classifiers_name_no_licence():
    assert guard.classifier_licence(["License :: OSI Approved"]) is None
    assert guard.classifier_licence(["License :: Other/Proprietary License"]) is None


def test_several_classifiers_are_alternatives():
    lic = guard.classifier_licence(
        ["License :: OSI Approved :: Apache Software License", "License :: OSI Approved :: BSD License"]
    )
    assert (lic.text, lic.status) == ("Apache-2.0 OR BSD", "ok")


def _dist(**kw):
    base = {"name": "x", "version": "1", "license_expression": "", "license": "", "classifiers": [], "files": []}
    base.update(kw)
    return base


def test_python_sources_in_order():
    agpl_classifier = ["License :: OSI Approved :: GNU Affero General Public License v3"]
    # The expression comes first ...
    lic = guard.python_licence(_dist(license_expression="MIT", classifiers=agpl_classifier))
    assert (lic.text, lic.source) == ("MIT", "License-Expression")
    # An expression that rests on unknown parts: AGPL still fails, otherwise the next source decides.
    lic = guard.python_licence(_dist(license_expression="AGPL-3.0-only AND LicenseRef-X", license="MIT"))
    assert lic.status == "AGPL"
    lic = guard.python_licence(
        _dist(license_expression="LicenseRef-X", classifiers=["License :: OSI Approved :: MIT License"])
    )
    assert (lic.text, lic.source) == ("MIT", "classifiers")
    assert guard.python_licence(_dist(license_expression="LicenseRef-X")).text == "LicenseRef-X"
    # ... then the classifiers ...
    lic = guard.python_licence(_dist(classifiers=agpl_classifier, license="MIT"))
    assert (lic.text, lic.status) == ("AGPL-3.0", "AGPL")
    # ... then a short License field ...
    lic = guard.python_licence(_dist(license="Apache License, Version 2.0", files=[["LICENSE", MIT]]))
    assert (lic.text, lic.source) == ("Apache-2.0", "License field")
    # ... then the texts, a long License field among them.
    lic = guard.python_licence(_dist(license=AGPL3))
    assert lic.status == "AGPL"
    lic = guard.python_licence(_dist(license="UNKNOWN", files=[["licenses/LICENSE", BSD3]]))
    assert (lic.text, lic.source) == ("BSD-3-Clause", "licenses/LICENSE")
    assert guard.python_licence(_dist(license="Custom")).status == "undetermined"


def test_python_lister_runs_in_a_real_interpreter():
    packages = {p.name.lower(): p for p in guard.collect_python(sys.executable)}
    assert packages["pytest"].licence.text == "MIT"
    assert packages["pytest"].version == __import__("pytest").__version__


# ------------------------------------------------------------------- npm


def _npm_pkg(directory: Path, manifest: dict, licence_text: str | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.json").write_text(json.dumps(manifest))
    if licence_text is not None:
        (directory / "LICENSE").write_text(licence_text)


@pytest.fixture
def npm_tree(tmp_path):
    nm = tmp_path / "app" / "node_modules"
    _npm_pkg(nm / "left-pad", {"name": "left-pad", "version": "1.3.0", "license": "WTFPL"})
    _npm_pkg(nm / "@scope" / "widget", {"name": "@scope/widget", "version": "2.0.0", "license": {"type": "ISC"}})
    _npm_pkg(
        nm / "outer" / "node_modules" / "inner",
        {"name": "inner", "version": "0.1.0", "licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]},
    )
    _npm_pkg(nm / "outer", {"name": "outer", "version": "1.0.0", "license": "(MIT OR AGPL-3.0)"})
    _npm_pkg(nm / "from-file", {"name": "from-file", "version": "0.0.1"}, licence_text=BSD2)
    _npm_pkg(nm / ".bin", {"name": "not-a-package"})
    (nm / ".package-lock.json").write_text("{}")
    return tmp_path / "app"


def _run_guard(*args):
    out = io.StringIO()
    rc = guard.main(["--skip-python", *[str(a) for a in args]], out=out)
    return rc, out.getvalue()


def test_npm_walk(npm_tree):
    packages = {p.name: p for p in guard.collect_npm([str(npm_tree)])}
    assert set(packages) == {"left-pad", "@scope/widget", "outer", "inner", "from-file"}
    assert packages["@scope/widget"].licence.text == "ISC"
    assert packages["inner"].licence.text == "MIT OR Apache-2.0"
    assert packages["outer"].licence.status == "ok"
    assert packages["from-file"].licence.text == "BSD-2-Clause"
    # The node_modules dir itself may be given, too.
    assert len(guard.collect_npm([str(npm_tree / "node_modules")])) == 5


def test_npm_agpl_package_fails(npm_tree, tmp_path):
    _npm_pkg(npm_tree / "node_modules" / "@evil" / "server", {"name": "@evil/server", "version": "9.9.9"}, AGPL3)
    _npm_pkg(npm_tree / "node_modules" / "strong", {"name": "strong", "version": "1.0.0", "license": "AGPL-3.0-only"})
    rc, out = _run_guard("--npm-dir", npm_tree, "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 1
    failed = out.split("FAILED:", 1)[1]
    assert "npm @evil/server 9.9.9: AGPL licence: AGPL-3.0" in failed
    assert "npm strong 1.0.0: AGPL licence: AGPL-3.0" in failed
    assert "@scope/widget" in out.split("FAILED:", 1)[0]
    assert "licence guard: 7 packages (go 0, python 0, npm 7): 2 AGPL, 0 undetermined" in out


def test_no_npm_packages(tmp_path):
    rc, out = _run_guard("--npm-dir", tmp_path / "nowhere", "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 0
    assert "npm: no npm packages installed by the tests" in out
    assert "licence guard: 0 packages" in out


# ------------------------------------------------------------ exceptions


def _exceptions(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "exceptions.txt"
    path.write_text(body)
    return path


def test_undetermined_fails_unless_excepted(npm_tree, tmp_path):
    _npm_pkg(npm_tree / "node_modules" / "mystery", {"name": "mystery", "version": "0.0.1", "license": "Custom"})
    rc, out = _run_guard("--npm-dir", npm_tree, "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 1
    assert "npm mystery 0.0.1: licence not determined" in out

    body = "# checked by hand\nnpm mystery MIT: stated in the README's Licence section\n"
    rc, out = _run_guard("--npm-dir", npm_tree, "--exceptions", _exceptions(tmp_path, body))
    assert rc == 0, out
    assert "exception: npm mystery 0.0.1: MIT: stated in the README's Licence section" in out
    assert "0 AGPL, 0 undetermined, 1 exception " in out


def test_stale_exception_is_a_warning(npm_tree, tmp_path):
    body = "npm gone-package MIT: was in LICENSE\nnpm left-pad WTFPL: in package.json\n"
    rc, out = _run_guard("--npm-dir", npm_tree, "--exceptions", _exceptions(tmp_path, body))
    assert rc == 0
    assert "warning: stale exception line 1: npm gone-package matches no package checked" in out
    assert "warning: exception line 2 (npm left-pad) not needed" in out


def test_exception_cannot_allow_agpl(npm_tree, tmp_path):
    _npm_pkg(npm_tree / "node_modules" / "strong", {"name": "strong", "version": "1.0.0", "license": "AGPL-3.0"})
    rc, out = _run_guard("--npm-dir", npm_tree, "--exceptions", _exceptions(tmp_path, "npm strong we like it\n"))
    assert rc == 1
    assert "an AGPL licence cannot be excepted" in out


def test_malformed_exceptions_file(tmp_path):
    rc, _ = _run_guard("--exceptions", _exceptions(tmp_path, "cargo serde MIT\n"))
    assert rc == 2


def test_markdown_table(npm_tree, tmp_path):
    rc, out = _run_guard("--npm-dir", npm_tree, "--markdown", "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 0
    assert out.startswith("| kind | name | version | licence | used by | verdict |\n|---|")
    assert "| npm | @scope/widget | 2.0.0 | ISC | app | ok |" in out


# ------------------------------------------------- Go module directories


def _module_dir(tmp_path: Path, name: str, files: dict) -> Path:
    # As in the module cache: $GOMODCACHE/github.com/example/name@v1.2.3
    d = tmp_path / "pkg" / "mod" / "github.com" / "example" / f"{name}@v1.2.3"
    d.mkdir(parents=True)
    for fname, text in files.items():
        (d / fname).write_text(text)
    return d


def test_module_directory_licences(tmp_path):
    d = _module_dir(tmp_path, "dual", {"LICENSE": BSD3 + "\n-----\n" + APACHE, "NOTICE": "Some notices.\n"})
    lic = guard.directory_licence(d)
    assert (lic.text, lic.status) == ("Apache-2.0 + BSD-3-Clause", "ok")
    assert lic.source == "LICENSE, NOTICE"

    d = _module_dir(tmp_path, "pair", {"LICENSE-APACHE": APACHE, "LICENSE-MIT": MIT, "license.go": "package x\n"})
    assert guard.directory_licence(d).text == "Apache-2.0 + MIT"

    d = _module_dir(tmp_path, "gnu", {"COPYING": GPL3, "COPYING.LESSER": LGPL3})
    assert guard.directory_licence(d).text == "GPL-3.0 + LGPL-3.0"

    d = _module_dir(tmp_path, "lower", {"license.md": ISC})
    assert guard.directory_licence(d).text == "ISC"

    d = _module_dir(tmp_path, "agpl", {"LICENSE.txt": AGPL3})
    assert guard.directory_licence(d).status == "AGPL"

    d = _module_dir(tmp_path, "none", {"README.md": "MIT licensed, says the README\n"})
    lic = guard.directory_licence(d)
    assert (lic.text, lic.status, lic.source) == ("UNKNOWN", "undetermined", "no licence file")


# -------------------------------------------------- Go binaries (real go)


@pytest.fixture
def go_on_path():
    # The test platform builds with Go; its absence is a broken platform, not a reason to skip.
    if shutil.which("go") is None:
        pytest.fail("go is not on PATH: the Go binary checks need it (tests/platform installs it)")


needs_go = pytest.mark.usefixtures("go_on_path")


def _go_build(module_dir: Path, out: Path) -> Path:
    env = dict(os.environ, GOFLAGS="-buildvcs=false", GOPROXY="off", GOWORK="off", GOTOOLCHAIN="local")
    env["CGO_ENABLED"] = "0"
    subprocess.run(["go", "build", "-trimpath", "-o", str(out), "."], cwd=module_dir, env=env, check=True)
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@needs_go
def test_go_binary_without_deps(tmp_path):
    src = tmp_path / "hello"
    _write(src / "go.mod", "module example.invalid/hello\n\ngo 1.22\n")
    _write(src / "main.go", 'package main\n\nfunc main() { println("hello") }\n')
    binary = _go_build(src, tmp_path / "hello-bin")
    rc, out = _run_guard("--go-binary", binary, "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 0, out
    main_row = next(line for line in out.splitlines() if "example.invalid/hello" in line)
    assert "main module (hello-bin)" in main_row
    assert main_row.rstrip().endswith("not checked")
    std_row = next(line for line in out.splitlines() if line.startswith("go    std"))
    assert "BSD-3-Clause" in std_row
    assert std_row.rstrip().endswith("ok")
    assert "licence guard: 1 packages (go 1, python 0, npm 0): 0 AGPL, 0 undetermined" in out


@needs_go
def test_go_binary_with_agpl_module_fails(tmp_path):
    # The AGPL module is written here (its LICENSE is the AGPL's opening lines), never fetched.
    lib = tmp_path / "agplmod"
    _write(lib / "go.mod", "module example.invalid/agplmod\n\ngo 1.22\n")
    _write(lib / "agplmod.go", 'package agplmod\n\nfunc Greeting() string { return "hello" }\n')
    _write(lib / "LICENSE", AGPL3)
    app = tmp_path / "app"
    _write(
        app / "go.mod",
        "module example.invalid/app\n\ngo 1.22\n\nrequire example.invalid/agplmod v0.0.0\n\n"
        f"replace example.invalid/agplmod => {lib}\n",
    )
    _write(
        app / "main.go",
        'package main\n\nimport "example.invalid/agplmod"\n\nfunc main() { println(agplmod.Greeting()) }\n',
    )
    binary = _go_build(app, tmp_path / "app-bin")
    rc, out = _run_guard("--go-binary", binary, "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 1, out
    failed = out.split("FAILED:", 1)[1]
    assert f"go example.invalid/agplmod => {lib} v0.0.0 => (local): AGPL licence: AGPL-3.0" in failed
    assert "used by app-bin" in failed


def _file_proxy(root: Path, module: str, version: str, files: dict) -> None:
    """A module proxy on disk (GOPROXY=file://...), as `go` reads one: list, .info, .mod and .zip."""
    d = root / module / "@v"
    d.mkdir(parents=True)
    (d / "list").write_text(f"{version}\n")
    (d / f"{version}.info").write_text(json.dumps({"Version": version, "Time": "2024-01-01T00:00:00Z"}))
    (d / f"{version}.mod").write_text(files["go.mod"])
    with zipfile.ZipFile(d / f"{version}.zip", "w") as z:
        for name, text in files.items():
            z.writestr(f"{module}@{version}/{name}", text)


@needs_go
def test_go_binary_built_from_a_published_module(tmp_path, monkeypatch):
    # As tests/platform/binaries.sh builds Prometheus: a wrapper module requires the published
    # module and builds its command, so the binary's main module is that module at its version.
    # It is checked like a dependency, and the guard fetches it into an empty module cache.
    proxy = tmp_path / "proxy"
    _file_proxy(
        proxy,
        "example.invalid/tool",
        "v1.2.0",
        {
            "go.mod": "module example.invalid/tool\n\ngo 1.22\n",
            "LICENSE": MIT,
            "cmd/tool/main.go": 'package main\n\nfunc main() { println("tool") }\n',
        },
    )
    wrapper = tmp_path / "wrapper"
    _write(wrapper / "go.mod", "module example.invalid/wrapper\n\ngo 1.22\n\nrequire example.invalid/tool v1.2.0\n")
    _write(wrapper / "tools.go", '//go:build tools\n\npackage tools\n\nimport _ "example.invalid/tool/cmd/tool"\n')
    monkeypatch.setenv("GOPROXY", proxy.as_uri())
    monkeypatch.setenv("GOSUMDB", "off")
    monkeypatch.setenv("GOFLAGS", "-modcacherw -mod=mod")
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOWORK", "off")
    monkeypatch.setenv("CGO_ENABLED", "0")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "build-cache"))
    binary = tmp_path / "tool-bin"
    subprocess.run(["go", "build", "-o", str(binary), "example.invalid/tool/cmd/tool"], cwd=wrapper, check=True)
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "guard-cache"))
    rc, out = _run_guard("--go-binary", binary, "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 0, out
    row = next(line for line in out.splitlines() if "example.invalid/tool" in line).split()
    assert row == ["go", "example.invalid/tool", "v1.2.0", "MIT", "tool-bin", "ok"]
    assert "main module" not in out
    assert (tmp_path / "guard-cache" / "example.invalid" / "tool@v1.2.0" / "LICENSE").is_file()


def test_missing_go_binary_is_an_error(tmp_path):
    rc, _ = _run_guard("--go-binary", tmp_path / "absent", "--exceptions", _exceptions(tmp_path, ""))
    assert rc == 2


def test_modcache_scan_finds_an_agpl_module_and_ignores_the_download_cache(tmp_path):
    _write(tmp_path / "example.invalid" / "ok@v1.0.0" / "LICENSE", MIT)
    _write(tmp_path / "example.invalid" / "nested" / "bad@v0.1.0" / "LICENSE", AGPL3)
    _write(tmp_path / "cache" / "download" / "example.invalid" / "zip@v1.0.0" / "LICENSE", AGPL3)
    count, agpl = guard.scan_modcache(tmp_path)
    assert count == 2
    assert len(agpl) == 1 and agpl[0].startswith("example.invalid/nested/bad@v0.1.0")
