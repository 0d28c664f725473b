// Command cataloguegen prints, as JSON, the typed settings of every component
// in a collector build: it is compiled next to the builder's components.go
// (see tests/platform/otelcol-catalogue.py), asks each factory for its default
// configuration and walks the Go config struct the way confmap decodes it
// (mapstructure tags, squash, pointers, configoptional.Optional, TextUnmarshaler
// scalars, time.Duration).
package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// Candidate words tried on every enum-like setting: a TextUnmarshaler type, or
// a string setting whose component's Validate() refuses a made-up value. The
// words each accepts become its enum; one that accepts a made-up word is free text.
var candidates = []string{
	"", "none", "basic", "normal", "detailed", "debug", "info", "warn", "error", "dpanic", "panic", "fatal",
	"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "ip", "ip4", "ip6", "unix", "unixgram", "unixpacket",
	"gzip", "zlib", "deflate", "snappy", "zstd", "lz4", "x-snappy-framed", "ignore", "silent", "propagate",
	"proto", "json", "delta", "cumulative", "console", "otlp", "prometheus", "sha1", "sha3", "md5", "hmac-sha256",
	"hmac-sha512", "UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes", "NoUTF8EscapingWithSuffixes",
	"NoTranslation", "Bearer", "round_robin", "pick_first", "least_request", "proto_binary", "proto_json",
	"drop", "retry", "block", "requests", "items", "bytes", "spans", "logs", "metrics", "traces", "profiles",
	"1.0", "1.1", "1.2", "1.3", "trace", "debug2", "info2", "warn2", "error2", "fatal2", "insert", "update", "upsert", "delete", "hash", "extract", "convert", "strict", "regexp", "exact",
	"int", "double", "string", "allow", "deny", "always_on", "always_off",
}

const madeUp = "no-such-value-zz"

// prober decodes a setting into a fresh default configuration exactly as the
// collector does (confmap.Conf.Unmarshal) and runs the collector's validation
// of the whole configuration (confmap.Validate). A probe is refused when its
// error differs from the one with the setting's section present but empty.
type prober struct {
	create func() component.Config
}

func nest(keys []string, value any) map[string]any {
	m := map[string]any{keys[len(keys)-1]: value}
	for i := len(keys) - 2; i >= 0; i-- {
		m = map[string]any{keys[i]: m}
	}
	return m
}

func (p *prober) try(conf map[string]any) string {
	cfg := p.create()
	if err := confmap.NewFromStringMap(conf).Unmarshal(cfg); err != nil {
		return "decode: " + err.Error()
	}
	if err := confmap.Validate(cfg); err != nil {
		return err.Error()
	}
	return ""
}

func (p *prober) rejects(keys []string, value any) bool {
	var baseline string
	if len(keys) > 1 {
		baseline = p.try(nest(keys[:len(keys)-1], map[string]any{}))
	} else {
		baseline = p.try(map[string]any{})
	}
	return p.try(nest(keys, value)) != baseline
}

// textEnum: the candidate words a TextUnmarshaler type accepts, nil when it
// accepts anything (a made-up word too).
func textEnum(t reflect.Type) ([]string, bool) {
	if !reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil, false
	}
	ok := func(w string) bool {
		return reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(w)) == nil
	}
	if ok(madeUp) {
		return nil, false
	}
	var words []string
	for _, w := range candidates {
		if ok(w) {
			words = append(words, w)
		}
	}
	return words, ok("DETAILED") || ok("GZIP") || ok("DEBUG") || ok("IGNORE") || ok("TCP")
}

var (
	textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	confUnmarshaler = reflect.TypeOf((*confmap.Unmarshaler)(nil)).Elem()
	durationType    = reflect.TypeOf(time.Duration(0))
	validator       = reflect.TypeOf((*interface{ Validate() error })(nil)).Elem()
)

// Node is one setting: its kind and, for mappings and lists, what they hold.
type Node struct {
	Kind     string           `json:"k"`            // struct map list duration bool int uint float string text any
	Go       string           `json:"go,omitempty"` // Go type name
	Bits     int              `json:"bits,omitempty"`
	Fields   map[string]*Node `json:"f,omitempty"`
	Elem     *Node            `json:"e,omitempty"`
	Optional bool             `json:"opt,omitempty"` // configoptional.Optional: accepts enabled
	Custom   bool             `json:"custom,omitempty"`
	Validate bool             `json:"validate,omitempty"`
	Default  any              `json:"d,omitempty"`
	Remain   bool             `json:"remain,omitempty"` // accepts any further keys
	Struct   string           `json:"struct,omitempty"` // package.Type of a struct
	Enum     []string         `json:"enum,omitempty"`
	Fold     bool             `json:"fold,omitempty"`     // enum compared case-insensitively
	Min      *int64           `json:"min,omitempty"`      // Validate() refuses values below
	Base     string           `json:"base,omitempty"`     // text: the Go kind underneath (int kinds take numbers)
	Nums     []int64          `json:"nums,omitempty"`     // text over an integer: the numbers it accepts
	Lax      bool             `json:"lax,omitempty"`      // the decoder ignores unknown keys here
	Split    bool             `json:"split,omitempty"`    // []string: a string is split on commas
	NonEmpty bool             `json:"nonempty,omitempty"` // Validate() refuses an empty value
	Absent   bool             `json:"absent,omitempty"`   // Optional that is None by default (zero values when given)
}

var probe *prober

// keyPath: the mapstructure keys of a setting, for probing (nil: not probed).
type keyPath []string

func typeName(t reflect.Type) string {
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

func walk(t reflect.Type, v reflect.Value, depth int, path keyPath) *Node {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
	}
	n := &Node{Go: typeName(t)}
	if depth > 12 {
		n.Kind = "any"
		return n
	}
	if strings.HasPrefix(t.Name(), "Optional[") && strings.HasSuffix(t.PkgPath(), "configoptional") {
		f, _ := t.FieldByName("value")
		var inner *Node
		if v.IsValid() {
			// Read the unexported value and flavor: a default section has defaults.
			inner = walk(f.Type, v.FieldByName("value"), depth+1, path)
			inner.Absent = v.FieldByName("flavor").Int() == 0
		} else {
			inner = walk(f.Type, reflect.Value{}, depth+1, path)
		}
		inner.Optional = true
		return inner
	}
	ptr := reflect.PointerTo(t)
	n.Validate = t.Implements(validator) || ptr.Implements(validator)
	n.Custom = ptr.Implements(confUnmarshaler)
	switch {
	case t == durationType:
		n.Kind = "duration"
		if v.IsValid() && v.CanInterface() {
			n.Default = v.Interface().(time.Duration).String()
		}
		if path != nil && probe != nil {
			for _, x := range []int64{-1, 0} {
				if probe.rejects(path, x) {
					m := x + 1
					n.Min = &m // nanoseconds
				}
			}
		}
		return n
	case t.Kind() != reflect.Struct && (ptr.Implements(textUnmarshaler) || t.Implements(textUnmarshaler)):
		n.Kind = "text"
		n.Base = t.Kind().String()
		n.Enum, n.Fold = textEnum(t)
		if path != nil && probe != nil && len(n.Enum) > 1 && n.Enum[0] == "" {
			n.NonEmpty = probe.rejects(path, "") && !probe.rejects(path, n.Enum[1])
		}
		if path != nil && probe != nil && t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64 {
			for x := int64(-2); x <= 8; x++ {
				if !probe.rejects(path, x) {
					n.Nums = append(n.Nums, x)
				}
			}
		}
		if v.IsValid() && v.CanInterface() {
			n.Default = fmt.Sprint(v.Interface())
		}
		return n
	case t.Kind() == reflect.Struct && (ptr.Implements(textUnmarshaler) || t.Implements(textUnmarshaler)):
		n.Kind = "text"
		n.Base = "struct" // decodes from a string only (component.ID)
		n.Enum, n.Fold = textEnum(t)
		return n
	}
	switch t.Kind() {
	case reflect.Bool:
		n.Kind = "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.Kind, n.Bits = "int", t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.Kind, n.Bits = "uint", t.Bits()
	case reflect.Float32, reflect.Float64:
		n.Kind = "float"
	case reflect.String:
		n.Kind = "string"
	case reflect.Slice, reflect.Array:
		n.Kind = "list"
		n.Split = t == reflect.TypeOf([]string{}) // confmap splits a string on commas into exactly []string
		n.Elem = walk(t.Elem(), reflect.Value{}, depth+1, nil)
		return n
	case reflect.Map:
		n.Kind = "map"
		n.Elem = walk(t.Elem(), reflect.Value{}, depth+1, nil)
		return n
	case reflect.Struct:
		n.Kind = "struct"
		n.Fields = map[string]*Node{}
		n.Remain = fields(t, v, n.Fields, depth, path)
		if probe != nil && path != nil {
			n.Lax = !probe.rejects(append(append(keyPath{}, path...), madeUp), 1)
		}
		n.Struct = t.String()
		return n
	default:
		n.Kind = "any"
		return n
	}
	if v.IsValid() && v.CanInterface() && !v.IsZero() {
		n.Default = v.Interface()
	}
	if path != nil && probe != nil {
		probeScalar(n, t, path)
	}
	return n
}

// probeScalar derives what the collector refuses for one setting: made-up
// words for strings (then the accepted candidates), negative or zero numbers.
func probeScalar(n *Node, t reflect.Type, path keyPath) {
	switch t.Kind() {
	case reflect.String:
		n.NonEmpty = probe.rejects(path, "") && !probe.rejects(path, "x:1") // "" refused where a value passes
		if !probe.rejects(path, madeUp) {
			return
		}
		for _, w := range candidates {
			if !probe.rejects(path, w) {
				n.Enum = append(n.Enum, w)
			}
		}
		if len(n.Enum) < 2 || (len(n.Enum) == 2 && n.Enum[0] != "") {
			// Refuses (almost) every candidate: a format (an endpoint, a file
			// that must exist) rather than a set of words.
			n.Enum = nil
			return
		}
		n.Fold = !probe.rejects(path, strings.ToUpper(n.Enum[len(n.Enum)-1]))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == durationType {
			return
		}
		for _, x := range []int64{-1, 0} {
			if probe.rejects(path, x) {
				m := x + 1
				n.Min = &m
			}
		}
	}
}

func fields(t reflect.Type, v reflect.Value, out map[string]*Node, depth int, path keyPath) (remain bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if strings.Contains(opts, "remain") {
			remain = true
			continue
		}
		sub := path // a squashed struct's settings sit at its parent's level
		var fv reflect.Value
		if v.IsValid() {
			fv = v.Field(i)
			if !fv.CanInterface() {
				fv = reflect.Value{}
			}
		}
		if strings.Contains(opts, "squash") || (f.Anonymous && name == "") {
			ft, fvv := f.Type, fv
			for ft.Kind() == reflect.Ptr {
				ft = ft.Elem()
				if fvv.IsValid() && !fvv.IsNil() {
					fvv = fvv.Elem()
				} else {
					fvv = reflect.Value{}
				}
			}
			if ft.Kind() == reflect.Struct {
				if fields(ft, fvv, out, depth+1, sub) {
					remain = true
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if !f.IsExported() {
			continue
		}
		if path != nil {
			sub = append(append(keyPath{}, path...), name)
		}
		out[name] = walk(f.Type, fv, depth+1, sub)
	}
	return remain
}

type factory interface {
	CreateDefaultConfig() component.Config
}

func main() {
	facts, err := components()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := map[string]map[string]*Node{}
	fv := reflect.ValueOf(facts)
	for _, kind := range []string{"Receivers", "Processors", "Exporters", "Extensions", "Connectors"} {
		m := fv.FieldByName(kind)
		section := map[string]*Node{}
		keys := m.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			f := m.MapIndex(k).Interface().(factory)
			cfg := f.CreateDefaultConfig()
			probe = &prober{create: f.CreateDefaultConfig}
			section[fmt.Sprint(k.Interface())] = walk(reflect.TypeOf(cfg), reflect.ValueOf(cfg), 0, keyPath{})
		}
		out[strings.ToLower(kind)] = section
	}
	if tf := fv.FieldByName("Telemetry"); tf.IsValid() && !tf.IsNil() {
		cfg := tf.Interface().(factory).CreateDefaultConfig()
		probe = nil
		out["service"] = map[string]*Node{"telemetry": walk(reflect.TypeOf(cfg), reflect.ValueOf(cfg), 0, nil)}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
