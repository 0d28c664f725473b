# Copyright: contributors to the claude_monitoring.stack collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environment files and ${...} resolution as the collector's confmap does it."""

from __future__ import annotations

from .components import ENV_NAME_RE, SCHEME_RE, SUPPORTED_SCHEMES
from .findings import WARNING, EnvFileError, Unresolved
from .yaml_lines import _YamlError, load_yaml


def parse_env_file(text: str) -> dict:
    """Parse systemd EnvironmentFile syntax. Raises EnvFileError."""
    env = {}
    logical, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not logical:
            start = number
            stripped = raw.strip()
            if not stripped or stripped[0] in "#;":
                continue
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            logical += raw[:-1]
            continue
        logical += raw
        line, logical = logical.strip(), ""
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not ENV_NAME_RE.match(key):
            raise EnvFileError(f"line {start}: expected NAME=VALUE with NAME matching [A-Za-z_][A-Za-z0-9_]*")
        env[key] = _env_file_value(value.strip(), start)
    if logical:
        raise EnvFileError(f"line {start}: the file ends inside a continued line")
    return env


def _env_file_value(value: str, line: int) -> str:
    out, i, quote = [], 0, None
    while i < len(value):
        ch = value[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"' and i + 1 < len(value):
                i += 1
                out.append(value[i])
            else:
                out.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == "\\" and i + 1 < len(value):
            i += 1
            out.append(value[i])
        else:
            out.append(ch)
        i += 1
    if quote:
        raise EnvFileError(f"line {line}: unterminated {quote} quote")
    return "".join(out)


def parse_env_pairs(pairs) -> dict:
    env = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not ENV_NAME_RE.match(key):
            raise EnvFileError(f"{pair!r}: expected NAME=VALUE")
        env[key] = value
    return env


def _find_reference(text: str, start: int = 0) -> tuple[int, int] | None:
    """The innermost ${...} reference the collector would expand first: the
    last ``${`` before the first ``}``, skipping ones escaped by ``$$``."""
    while True:
        close = text.find("}", start)
        if close < 0:
            return None
        opening = text.rfind("${", 0, close)
        if opening < start:
            start = close + 1
            continue
        dollars, j = 0, opening - 1
        while j >= 0 and text[j] == "$":
            dollars += 1
            j -= 1
        if dollars % 2 == 1:
            start = close + 1
            continue
        return opening, close


class _EnvResolver:
    def __init__(self, checker, env: dict | None):
        self.checker = checker
        self.env = env
        self._unset = False

    def resolve(self, value, path):
        if isinstance(value, dict):
            return {k: self.resolve(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value:
            return self._resolve_string(value, path)
        return value

    def _resolve_string(self, text: str, path):
        self._unset = False
        unresolved = False
        whole = None
        for _round in range(100):  # the collector stops after 1000 rounds; real configs need a few
            ref = _find_reference(text)
            if ref is None:
                break
            opening, close = ref
            uri = text[opening + 2 : close]
            replacement = self._resolve_uri(uri, path)
            if replacement is None:
                unresolved = True
                # Keep a placeholder the loop will not see again.
                replacement = "\0" + uri + "\1"
            elif opening == 0 and close == len(text) - 1:
                whole = replacement
            text = text[:opening] + replacement + text[close + 1 :]
        text = text.replace("\0", "${").replace("\1", "}").replace("$$", "$")
        if unresolved:
            return Unresolved(text)
        if whole is not None and text == whole:
            if text == "" and self._unset:
                return None  # confmap: an unset variable alone is null (the zero value); ${X:-} stays ""
            typed = _typed(text)
            if not isinstance(typed, str):
                # confmap keeps the text of an expanded value too: a string setting takes it as is.
                getattr(self.checker, "expanded", set()).add(tuple(path))
            return typed
        return text

    def _resolve_uri(self, uri: str, path) -> str | None:
        if ":" not in uri:
            scheme, rest = "env", uri
        else:
            match = SCHEME_RE.match(uri)
            if not match:
                self.checker.add(
                    "env-provider-unsupported",
                    path,
                    f"${{{uri}}} is not a valid reference: write ${{env:NAME}}, ${{NAME}} or ${{scheme:value}} "
                    f"with a scheme of two or more letters ({', '.join(SUPPORTED_SCHEMES)})",
                )
                return None
            scheme, rest = match.group(1), match.group(2)
        if scheme not in SUPPORTED_SCHEMES:
            self.checker.add(
                "env-provider-unsupported",
                path,
                f"provider scheme {scheme!r} in ${{{uri}}} is not supported; use one of "
                f"{', '.join(SUPPORTED_SCHEMES)} (escape a literal $ as $$)",
            )
            return None
        if "$" in rest:
            self.checker.add(
                "env-provider-unsupported", path, f"${{{uri}}} contains '$', which the collector refuses; remove it"
            )
            return None
        if scheme != "env":
            return None  # file/yaml/http(s) content is not known here
        name, has_default, default = rest.partition(":-")
        if not ENV_NAME_RE.match(name):
            self.checker.add(
                "env-var-name",
                path,
                f"environment variable name {name!r} is invalid; names must match [A-Za-z_][A-Za-z0-9_]*",
            )
            return None
        if self.env is not None and name in self.env:
            return str(self.env[name])
        if has_default:
            return default
        if self.env is None:
            self.checker.add(
                "env-unset",
                path,
                f"${{{uri}}} has no default and no environment was supplied to check it; make sure {name} is set "
                f"where the collector runs, or write ${{env:{name}:-<default>}}",
                severity=WARNING,
            )
            return None
        self.checker.add(
            "env-unset",
            path,
            f"environment variable {name} is not set in the supplied environment and has no default; set it "
            f"(env/env_file) or write ${{env:{name}:-<default>}}",
        )
        self._unset = True
        return ""  # what the collector substitutes, so later rules see the consequence


def _typed(text: str):
    """A whole-value reference takes the YAML type of what it expands to (read
    as the file is: bounded nesting, numbers as the collector reads them)."""
    try:
        value, _lines = load_yaml(text)
    except _YamlError:
        return text
    return value if isinstance(value, (bool, int, float)) else text


def build_env(env_files=(), pairs=(), base=None) -> dict | None:
    """The environment from env files then NAME=VALUE pairs; None if none given."""
    if not env_files and not pairs and base is None:
        return None
    env = dict(base or {})
    for path in env_files:
        with open(path, encoding="utf-8") as handle:
            try:
                env.update(parse_env_file(handle.read()))
            except EnvFileError as exc:
                raise EnvFileError(f"{path}: {exc}") from None
    env.update(parse_env_pairs(pairs))
    return env
