package main

// grafana.ini: read as Grafana documents it ("Configure Grafana" page of the
// Grafana documentation): <homepath>/conf/defaults.ini first (required), then
// `cfg:default.<section>.<key>=` command line defaults, then the --config file
// (else <homepath>/conf/custom.ini), then GF_<SECTION>_<KEY> environment
// variables, then `cfg:<section>.<key>=` command line overrides. Relative
// [paths] are relative to the homepath. Values may use $__env{NAME} and
// $__file{path}.
//
// The INI syntax is the one Grafana's INI library reads: `;` and `#` start a
// comment anywhere in an unquoted value, so a value holding either character
// must be wrapped in triple double quotes ("""...""") or backticks, as the
// Grafana documentation says for admin_password. A line that is neither a
// section, a comment nor `key = value` makes Grafana refuse to start.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// iniFile maps section -> key -> value. Keys before any section are in "".
type iniFile map[string]map[string]string

func (f iniFile) set(section, key, value string) {
	if f[section] == nil {
		f[section] = map[string]string{}
	}
	f[section][key] = value
}

func (f iniFile) get(section, key string) string { return f[section][key] }

func parseINI(data []byte, name string) (iniFile, error) {
	out := iniFile{}
	section := ""
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: unclosed section header %q", name, i+1, line)
			}
			section = strings.TrimSpace(line[1:end])
			if out[section] == nil {
				out[section] = map[string]string{}
			}
			continue
		}
		pos := strings.IndexAny(line, "=:")
		if pos <= 0 {
			return nil, fmt.Errorf("%s:%d: key-value delimiter not found: %s", name, i+1, line)
		}
		key := strings.TrimSpace(line[:pos])
		raw := strings.TrimLeft(line[pos+1:], " \t")
		var value string
		switch {
		case strings.HasPrefix(raw, `"""`):
			rest := raw[3:]
			if end := strings.Index(rest, `"""`); end >= 0 {
				value = rest[:end]
				break
			}
			parts := []string{rest}
			closed := false
			for i++; i < len(lines); i++ {
				if end := strings.Index(lines[i], `"""`); end >= 0 {
					parts = append(parts, lines[i][:end])
					closed = true
					break
				}
				parts = append(parts, lines[i])
			}
			if !closed {
				return nil, fmt.Errorf("%s: unclosed triple-quoted value of %s", name, key)
			}
			value = strings.Join(parts, "\n")
		case strings.HasPrefix(raw, "`"):
			end := strings.IndexByte(raw[1:], '`')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: unclosed backtick value of %s", name, i+1, key)
			}
			value = raw[1 : end+1]
		default:
			if c := strings.IndexAny(raw, "#;"); c >= 0 { // inline comment
				raw = raw[:c]
			}
			value = strings.TrimSpace(raw)
			if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
				value = value[1 : len(value)-1]
			}
		}
		out.set(section, key, value)
	}
	return out, nil
}

// settings are the values the stand-in acts on, after every source was applied.
type settings struct {
	Raw iniFile // merged, expanded

	HomePath     string
	ConfigFile   string
	DataDir      string
	LogsDir      string
	Provisioning string

	Protocol string // http, https or h2
	HTTPAddr string
	HTTPPort int
	CertFile string
	CertKey  string

	AdminUser     string
	AdminPassword string

	AnonymousEnabled bool
	AnonymousRole    string
	LogLevel         string
}

// cmdline is what `grafana server` received.
type cmdline struct {
	HomePath  string
	Config    string
	PidFile   string
	Packaging string
	Defaults  [][3]string // cfg:default.section.key=value
	Overrides [][3]string // cfg:section.key=value
}

func splitCfgArg(arg string) ([3]string, error) {
	kv, value, ok := strings.Cut(arg, "=")
	dot := strings.LastIndexByte(kv, '.')
	if !ok || dot <= 0 {
		return [3]string{}, fmt.Errorf("invalid command line setting %q (want cfg:[default.]section.key=value)", arg)
	}
	return [3]string{kv[:dot], kv[dot+1:], value}, nil
}

func loadSettings(cl cmdline) (settings, error) {
	s := settings{HomePath: cl.HomePath}
	if s.HomePath == "" {
		wd, _ := os.Getwd()
		s.HomePath = wd
	}
	defaultsFile := filepath.Join(s.HomePath, "conf", "defaults.ini")
	data, err := os.ReadFile(defaultsFile)
	if err != nil {
		return s, fmt.Errorf("could not find config defaults, make sure homepath command line parameter is set or working directory is homepath: %w", err)
	}
	merged, err := parseINI(data, defaultsFile)
	if err != nil {
		return s, err
	}
	for _, d := range cl.Defaults {
		merged.set(d[0], d[1], d[2])
	}
	s.ConfigFile = cl.Config
	if s.ConfigFile == "" {
		s.ConfigFile = filepath.Join(s.HomePath, "conf", "custom.ini")
	}
	if data, err := os.ReadFile(s.ConfigFile); err == nil {
		custom, err := parseINI(data, s.ConfigFile)
		if err != nil {
			return s, err
		}
		for sec, kv := range custom {
			for k, v := range kv {
				merged.set(sec, k, v)
			}
		}
	} else if cl.Config != "" { // an explicit --config must be readable
		return s, fmt.Errorf("failed to load custom config file %s: %w", s.ConfigFile, err)
	}
	for sec, kv := range merged { // GF_<SECTION>_<KEY> for every key known so far
		for k := range kv {
			name := "GF_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(sec)) + "_" + strings.ToUpper(k)
			if sec == "" {
				name = "GF_" + strings.ToUpper(k)
			}
			if v, ok := os.LookupEnv(name); ok {
				merged.set(sec, k, v)
			}
		}
	}
	for _, o := range cl.Overrides {
		merged.set(o[0], o[1], o[2])
	}
	for sec, kv := range merged {
		for k, v := range kv {
			expanded, err := expand(v)
			if err != nil {
				return s, fmt.Errorf("[%s] %s: %w", sec, k, err)
			}
			kv[k] = expanded
		}
	}
	s.Raw = merged
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(s.HomePath, p)
	}
	s.DataDir = abs(merged.get("paths", "data"))
	s.LogsDir = abs(merged.get("paths", "logs"))
	s.Provisioning = abs(merged.get("paths", "provisioning"))
	s.Protocol = merged.get("server", "protocol")
	s.HTTPAddr = merged.get("server", "http_addr")
	s.CertFile = merged.get("server", "cert_file")
	s.CertKey = merged.get("server", "cert_key")
	if s.HTTPPort, err = strconv.Atoi(merged.get("server", "http_port")); err != nil {
		return s, fmt.Errorf("[server] http_port: %w", err)
	}
	if !slices.Contains([]string{"http", "https", "h2"}, s.Protocol) {
		return s, fmt.Errorf("[server] protocol %q: the stand-in serves http, https and h2 only", s.Protocol)
	}
	if s.Protocol != "http" && (s.CertFile == "" || s.CertKey == "") {
		return s, fmt.Errorf("[server] protocol %s needs cert_file and cert_key", s.Protocol)
	}
	s.AdminUser = merged.get("security", "admin_user")
	s.AdminPassword = merged.get("security", "admin_password")
	if s.AnonymousEnabled, err = parseBool(merged.get("auth.anonymous", "enabled")); err != nil {
		return s, fmt.Errorf("[auth.anonymous] enabled: %w", err)
	}
	s.AnonymousRole = merged.get("auth.anonymous", "org_role")
	s.LogLevel = merged.get("log", "level")
	for _, b := range [][2]string{{"users", "allow_sign_up"}, {"security", "disable_gravatar"}, {"analytics", "reporting_enabled"},
		{"analytics", "check_for_updates"}, {"security", "cookie_secure"}} {
		if _, err := parseBool(merged.get(b[0], b[1])); err != nil {
			return s, fmt.Errorf("[%s] %s: %w", b[0], b[1], err)
		}
	}
	return s, nil
}

// parseBool accepts what Grafana's INI library accepts for booleans.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "", "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", v)
}

// expand replaces $__env{NAME} and $__file{path} (Grafana's variable expansion).
func expand(v string) (string, error) {
	for _, kind := range []string{"$__env{", "$__file{"} {
		for {
			start := strings.Index(v, kind)
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '}')
			if end < 0 {
				return "", fmt.Errorf("unclosed %s}", kind)
			}
			arg := v[start+len(kind) : start+end]
			var repl string
			if kind == "$__env{" {
				repl = os.Getenv(arg)
			} else {
				data, err := os.ReadFile(arg)
				if err != nil {
					return "", fmt.Errorf("$__file{%s}: %w", arg, err)
				}
				repl = strings.TrimSpace(string(data))
			}
			v = v[:start] + repl + v[start+end+1:]
		}
	}
	return v, nil
}

// redacted lists the merged settings as GET /api/admin/settings does, with
// secrets replaced.
func (s settings) redacted() map[string]map[string]string {
	out := map[string]map[string]string{}
	for sec, kv := range s.Raw {
		out[sec] = map[string]string{}
		for k, v := range kv {
			lk := strings.ToLower(k)
			if v != "" && (strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "key") && lk != "cert_key") {
				v = "************"
			}
			out[sec][k] = v
		}
	}
	return out
}
