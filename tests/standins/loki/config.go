package main

// Config check: the file is judged against config-reference.yaml, a table of
// every key path and its type taken from Loki's published configuration
// reference. The check is what the loki role's `-verify-config` validation
// and the service start rely on, so a config real Loki would refuse for an
// unknown key or a mistyped value is refused here too.

import (
	"cmp"
	_ "embed"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed config-reference.yaml
var referenceYAML []byte

// reference maps "a.b[].c" paths to type names; parsed once at start.
var reference = func() map[string]string {
	m := map[string]string{}
	if err := yaml.Unmarshal(referenceYAML, &m); err != nil {
		panic("config-reference.yaml: " + err.Error())
	}
	return m
}()

// settings are the few values the stand-in itself acts on.
type settings struct {
	ListenAddr string // server.http_listen_address:server.http_listen_port
	PathPrefix string // common.path_prefix: records go below it
	LogLevel   string // server.log_level
}

// problem is one thing wrong with the config, located for the user.
type problem struct {
	Line int    // 0 when the whole file is concerned
	Path string // e.g. limits_config.retention_stream[0].period
	What string
}

// loadConfig reads the first existing file of a comma-separated list (as
// Loki does), optionally expands ${VAR} and ${VAR:-default}, and checks it.
// It returns one message per problem; settings are only valid without any.
func loadConfig(files string, expandEnv bool) (settings, []problem) {
	var data []byte
	var err error
	for _, f := range strings.Split(files, ",") {
		if data, err = os.ReadFile(f); err == nil || !os.IsNotExist(err) {
			break
		}
	}
	if err != nil {
		return settings{}, []problem{{What: fmt.Sprintf("cannot read config file: %v", err)}}
	}
	if expandEnv {
		data = []byte(os.Expand(string(data), func(v string) string {
			name, def, hasDef := strings.Cut(v, ":-")
			if val, ok := os.LookupEnv(name); ok && (val != "" || !hasDef) {
				return val
			}
			return def
		}))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return settings{}, []problem{{What: fmt.Sprintf("config is not valid YAML: %v", err)}}
	}
	s := settings{ListenAddr: ":3100", PathPrefix: "/var/lib/loki", LogLevel: "info"}
	if len(doc.Content) == 0 { // empty file: every default
		return s, nil
	}
	root := doc.Content[0]
	var problems []problem
	check(root, "", "", "block", &problems)
	if len(problems) > 0 {
		return settings{}, problems
	}
	var c struct { // the values the stand-in acts on; types were checked above
		Server struct {
			Host     string `yaml:"http_listen_address"`
			Port     int    `yaml:"http_listen_port"`
			LogLevel string `yaml:"log_level"`
		}
		Common struct {
			PathPrefix string `yaml:"path_prefix"`
		}
	}
	if err := root.Decode(&c); err != nil {
		return settings{}, []problem{{What: err.Error()}}
	}
	s.ListenAddr = fmt.Sprintf("%s:%d", c.Server.Host, cmp.Or(c.Server.Port, 3100))
	s.PathPrefix = cmp.Or(c.Common.PathPrefix, s.PathPrefix)
	s.LogLevel = cmp.Or(c.Server.LogLevel, s.LogLevel)
	return s, problems
}

// check validates node n against type typ. tpath is the table path
// ("a[].b"), shown the path for messages ("a[0].b").
func check(n *yaml.Node, tpath, shown, typ string, problems *[]problem) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	bad := func(want string) {
		got := map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
		*problems = append(*problems, problem{n.Line, shown, fmt.Sprintf("expected %s, got %s", want, cmp.Or(got, "'"+n.Value+"'"))})
	}
	if n.Tag == "!!null" || typ == "any" {
		return // an empty value keeps Loki's default
	}
	switch {
	case typ == "block" || typ == "opaque block" || typ == "map of strings":
		if n.Kind != yaml.MappingNode {
			bad("a mapping")
			return
		}
		for i := 0; i+1 < len(n.Content) && typ != "opaque block"; i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kt, ks := strings.TrimPrefix(tpath+"."+k.Value, "."), strings.TrimPrefix(shown+"."+k.Value, ".")
			t, known := reference[kt]
			if typ == "map of strings" {
				kt, t, known = tpath, "string", true
			}
			if !known {
				*problems = append(*problems, problem{k.Line, ks, "unknown key (not in Loki's configuration reference)"})
				continue
			}
			check(v, kt, ks, t, problems)
		}
	case typ == "list of blocks" || typ == "list of strings":
		if n.Kind != yaml.SequenceNode {
			bad("a list")
			return
		}
		for i, item := range n.Content {
			check(item, tpath+"[]", fmt.Sprintf("%s[%d]", shown, i), strings.TrimSuffix(strings.TrimPrefix(typ, "list of "), "s"), problems)
		}
	case strings.HasPrefix(typ, "oneof "):
		if words := strings.Fields(typ)[1:]; n.Kind != yaml.ScalarNode || !slices.Contains(words, n.Value) {
			bad("one of " + strings.Join(words, ", "))
		}
	case scalars[typ].want == "":
		panic("config-reference.yaml: unknown type " + strconv.Quote(typ) + " for " + tpath)
	case n.Kind != yaml.ScalarNode || !scalars[typ].ok(n):
		bad(scalars[typ].want)
	}
}

// scalars are the docs' value types; yaml.v3 has already tagged each plain
// scalar !!int, !!float, !!bool or !!str by its form.
var scalars = map[string]struct {
	ok   func(n *yaml.Node) bool
	want string
}{
	"string": {func(n *yaml.Node) bool { return true }, "a string"},
	"boolean": {func(n *yaml.Node) bool { return n.Tag == "!!bool" || n.Style == 0 && yaml11Bools.MatchString(n.Value) },
		"a boolean (true or false)"},
	"int":      {func(n *yaml.Node) bool { return n.Tag == "!!int" }, "an integer"},
	"float":    {func(n *yaml.Node) bool { return n.Tag == "!!int" || n.Tag == "!!float" }, "a number"},
	"bytes":    {func(n *yaml.Node) bool { return n.Tag == "!!int" || byteSize.MatchString(n.Value) }, "a size in bytes (e.g. 1048576, 5MB, 1GiB)"},
	"duration": {func(n *yaml.Node) bool { return validDuration(n.Value) }, "a duration with a unit (e.g. 10m, 2h, 1h30m, 90d, 1w)"},
	"daytime": {func(n *yaml.Node) bool { _, err := time.Parse("2006-01-02", n.Value); return err == nil },
		"a date as YYYY-MM-DD"},
}

// yaml11Bools are booleans in YAML 1.1 but plain strings in YAML 1.2;
// accepted so as not to refuse a spelling an older YAML reader takes.
var yaml11Bools = regexp.MustCompile(`^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$`)

// byteSize is a go-humanize style size: 5MB, 20 MiB, 1.5GB, 256kb, 42.
var byteSize = regexp.MustCompile(`(?i)^\s*[0-9]+(\.[0-9]+)?\s*([kmgtpe]i?b?|b)?\s*$`)

// promDuration is the Prometheus model style (units y w d h m s ms, in that
// order); Go's time.ParseDuration covers the Go style (ns us µs ms s m h).
var promDuration = regexp.MustCompile(`^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$`)

func validDuration(s string) bool {
	if s == "0" {
		return true
	}
	if _, err := time.ParseDuration(s); err == nil {
		return true
	}
	return s != "" && promDuration.MatchString(s)
}
