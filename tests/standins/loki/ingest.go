package main

// Decoding of the two ingestion formats into Records: OTLP logs (what the
// OpenTelemetry Collector's otlp_http exporter sends) and Loki's own push
// API (JSON, or snappy-compressed protobuf decoded by hand from the
// documented message layout).

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/golang/snappy"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

func decodeOTLP(body []byte, isJSON bool) ([]Record, error) {
	req := plogotlp.NewExportRequest()
	var err error
	if isJSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return nil, err
	}
	var recs []Record
	for _, rl := range req.Logs().ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				recs = append(recs, Record{
					Source:               "otlp",
					Resource:             plain(rl.Resource().Attributes().AsRaw()).(map[string]any),
					Scope:                Scope{Name: sl.Scope().Name(), Version: sl.Scope().Version()},
					Attributes:           plain(lr.Attributes().AsRaw()).(map[string]any),
					Body:                 plain(lr.Body().AsRaw()),
					TimeUnixNano:         strconv.FormatUint(uint64(lr.Timestamp()), 10),
					ObservedTimeUnixNano: strconv.FormatUint(uint64(lr.ObservedTimestamp()), 10),
					SeverityText:         lr.SeverityText(),
					SeverityNumber:       int32(lr.SeverityNumber()),
					TraceID:              lr.TraceID().String(), // hex, "" when unset
					SpanID:               lr.SpanID().String(),
				})
			}
		}
	}
	return recs, nil
}

// plain makes an OTLP value (as pdata's AsRaw gives it) fit for JSON: ints
// stay exact JSON numbers, bytes become base64 (encoding/json does that for
// []byte), and NaN or Inf, which JSON cannot hold, become strings.
func plain(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	case []any:
		for i := range v {
			v[i] = plain(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = plain(v[k])
		}
	}
	return v
}

func pushRecord(labels map[string]string, ns int64, line string, metadata map[string]string) Record {
	res, attrs := map[string]any{}, map[string]any{}
	for k, v := range labels {
		res[k] = v
	}
	for k, v := range metadata {
		attrs[k] = v
	}
	return Record{Source: "push", Resource: res, Attributes: attrs, Body: line,
		TimeUnixNano: strconv.FormatInt(ns, 10), ObservedTimeUnixNano: "0"}
}

// decodePushJSON reads {"streams":[{"stream":{..},"values":[["<ns>","line",{..}]]}]}.
func decodePushJSON(body []byte) ([]Record, error) {
	var req struct {
		Streams []struct {
			Stream map[string]string
			Values [][]json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var recs []Record
	for _, st := range req.Streams {
		for _, v := range st.Values {
			var ts, line string
			var md map[string]string
			if len(v) < 2 || len(v) > 3 || json.Unmarshal(v[0], &ts) != nil || json.Unmarshal(v[1], &line) != nil ||
				(len(v) == 3 && json.Unmarshal(v[2], &md) != nil) {
				return nil, errors.New(`a value must be ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {metadata}]`)
			}
			ns, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad timestamp %q", ts)
			}
			recs = append(recs, pushRecord(st.Stream, ns, line, md))
		}
	}
	return recs, nil
}

// decodePushProto reads a snappy-compressed logproto.PushRequest:
//
//	PushRequest { repeated Stream streams = 1; }
//	Stream      { string labels = 1; repeated Entry entries = 2; }
//	Entry       { Timestamp timestamp = 1; string line = 2; repeated Pair structuredMetadata = 3; }
//	Timestamp   { int64 seconds = 1; int32 nanos = 2; }   Pair { string name = 1; string value = 2; }
func decodePushProto(compressed []byte) ([]Record, error) {
	data, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("snappy: %v", err)
	}
	req, err := fields(data)
	if err != nil {
		return nil, err
	}
	var recs []Record
	for _, stream := range req[1] {
		st, err := fields(stream.b)
		if err != nil {
			return nil, err
		}
		labels, err := parseLabels(string(first(st[1]).b))
		if err != nil {
			return nil, err
		}
		for _, entry := range st[2] {
			rec, err := decodeEntry(labels, entry.b)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

func decodeEntry(labels map[string]string, entry []byte) (Record, error) {
	e, err := fields(entry)
	ts, err2 := fields(first(e[1]).b)
	md := map[string]string{}
	for _, pair := range e[3] {
		p, err3 := fields(pair.b)
		md[string(first(p[1]).b)] = string(first(p[2]).b)
		err2 = errors.Join(err2, err3)
	}
	ns := int64(first(ts[1]).v)*1e9 + int64(int32(first(ts[2]).v))
	return pushRecord(labels, ns, string(first(e[2]).b), md), errors.Join(err, err2)
}

// field is one protobuf field value: bytes (length-delimited) or a varint.
type field struct {
	b []byte
	v uint64
}

func first(fs []field) field {
	if len(fs) == 0 {
		return field{} // an absent field has its zero value
	}
	return fs[0]
}

// fields splits one protobuf message into its fields, by field number.
func fields(msg []byte) (map[protowire.Number][]field, error) {
	out := map[protowire.Number][]field{}
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		var f field
		if n >= 0 {
			msg = msg[n:]
			switch typ {
			case protowire.BytesType:
				f.b, n = protowire.ConsumeBytes(msg)
			case protowire.VarintType:
				f.v, n = protowire.ConsumeVarint(msg)
			default:
				n = protowire.ConsumeFieldValue(num, typ, msg)
			}
		}
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		msg, out[num] = msg[n:], append(out[num], f)
	}
	return out, nil
}

var labelPair = regexp.MustCompile(`\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*(,|$)`)

// parseLabels reads a Prometheus-style label set: {a="b", c="d\"e"}.
func parseLabels(s string) (map[string]string, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(s), "{")
	inner, ok2 := strings.CutSuffix(inner, "}")
	if !ok || !ok2 || strings.TrimSpace(labelPair.ReplaceAllString(inner, "")) != "" {
		return nil, fmt.Errorf("bad labels %q", s)
	}
	out := map[string]string{}
	for _, m := range labelPair.FindAllStringSubmatch(inner, -1) {
		out[m[1]], _ = strconv.Unquote(m[2])
	}
	return out, nil
}
