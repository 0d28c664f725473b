package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

func init() { minLevel = 3 } // keep test output quiet

type standin struct {
	*httptest.Server
	dir string
	st  *store
}

func startStandin(t *testing.T, dir string) *standin {
	t.Helper()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(st).routes())
	t.Cleanup(func() { srv.Close(); st.f.Close() })
	return &standin{srv, dir, st}
}

func (s *standin) post(t *testing.T, path, ctype, encoding string, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type recordsReply struct {
	Records           []Record `json:"records"`
	DuplicatesIgnored int      `json:"duplicates_ignored"`
}

func (s *standin) records(t *testing.T) recordsReply {
	t.Helper()
	resp, err := http.Get(s.URL + "/standin/records")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r recordsReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func otlpLogs(body string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "claude-code")
	rl.Resource().Attributes().PutStr("team", "platform")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("com.anthropic.claude_code")
	sl.Scope().SetVersion("1.2.3")
	lr := sl.LogRecords().AppendEmpty()
	lr.Body().SetStr(body)
	lr.SetTimestamp(pcommon.Timestamp(1700000000123456789))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	a := lr.Attributes()
	a.PutStr("event.name", "api_request")
	a.PutInt("input_tokens", 9007199254740993) // beyond float64 precision
	a.PutDouble("cost_usd", 0.25)
	a.PutDouble("ratio", math.Inf(1)) // not representable in JSON
	a.PutBool("cached", true)
	a.PutEmptyBytes("raw").FromRaw([]byte{0xff, 0x00})
	a.PutEmptySlice("tools").AppendEmpty().SetStr("Bash")
	a.PutEmptyMap("model").PutStr("id", "opus")
	return ld
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestOTLPProtobufGzipAndJSON(t *testing.T) {
	s := startStandin(t, t.TempDir())
	pb, _ := plogotlp.NewExportRequestFromLogs(otlpLogs("hello proto")).MarshalProto()
	if code := s.post(t, "/otlp/v1/logs", "application/x-protobuf", "gzip", gz(t, pb)); code != 204 {
		t.Fatalf("protobuf+gzip: %d", code)
	}
	js, _ := plogotlp.NewExportRequestFromLogs(otlpLogs("hello json")).MarshalJSON()
	if code := s.post(t, "/otlp/v1/logs", "application/json", "", js); code != 204 {
		t.Fatalf("json: %d", code)
	}
	// Read the raw JSON, to see numbers exactly as stored.
	resp, _ := http.Get(s.URL + "/standin/records")
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(raw, []byte(`"input_tokens":9007199254740993`)) {
		t.Fatalf("int attribute not kept exactly: %s", raw)
	}
	recs := s.records(t).Records
	if len(recs) != 2 || recs[0].Body != "hello proto" || recs[1].Body != "hello json" {
		t.Fatalf("records: %+v", recs)
	}
	r := recs[0]
	want := map[string]any{"event.name": "api_request", "cost_usd": 0.25, "ratio": "+Inf", "cached": true, "raw": "/wA=",
		"tools": []any{"Bash"}, "model": map[string]any{"id": "opus"}}
	for k, v := range want {
		if got, _ := json.Marshal(r.Attributes[k]); !bytes.Equal(got, must(json.Marshal(v))) {
			t.Errorf("attribute %s = %s, want %v", k, got, v)
		}
	}
	if r.Source != "otlp" || r.Resource["service.name"] != "claude-code" || r.Resource["team"] != "platform" ||
		r.Scope != (Scope{"com.anthropic.claude_code", "1.2.3"}) || r.TimeUnixNano != "1700000000123456789" ||
		r.SeverityText != "INFO" || r.SeverityNumber != 9 || r.TraceID != "0102030405060708090a0b0c0d0e0f10" ||
		r.SpanID != "" || r.ReceivedUnixNano == "" {
		t.Fatalf("record: %+v", r)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestPushJSONAndProtobuf(t *testing.T) {
	s := startStandin(t, t.TempDir())
	js := []byte(`{"streams":[{"stream":{"job":"test"},"values":[["1700000000000000001","plain line"],
		["1700000000000000002","with metadata",{"trace_id":"abc"}]]}]}`)
	if code := s.post(t, "/loki/api/v1/push", "application/json", "", js); code != 204 {
		t.Fatalf("json: %d", code)
	}
	if code := s.post(t, "/loki/api/v1/push", "application/json", "gzip", gz(t, bytes.ReplaceAll(js, []byte(`"test"`), []byte(`"gz"`)))); code != 204 {
		t.Fatalf("json+gzip: %d", code)
	}
	// A logproto.PushRequest built by hand: stream {labels, entry {ts, line, metadata}}.
	var ts, pair, entry, stream, req []byte
	ts = protowire.AppendVarint(protowire.AppendTag(ts, 1, protowire.VarintType), 1700000000)
	ts = protowire.AppendVarint(protowire.AppendTag(ts, 2, protowire.VarintType), 5)
	pair = protowire.AppendString(protowire.AppendTag(pair, 1, protowire.BytesType), "user")
	pair = protowire.AppendString(protowire.AppendTag(pair, 2, protowire.BytesType), "alice")
	entry = protowire.AppendBytes(protowire.AppendTag(entry, 1, protowire.BytesType), ts)
	entry = protowire.AppendString(protowire.AppendTag(entry, 2, protowire.BytesType), "proto line")
	entry = protowire.AppendBytes(protowire.AppendTag(entry, 3, protowire.BytesType), pair)
	stream = protowire.AppendString(protowire.AppendTag(stream, 1, protowire.BytesType), `{job="proto", path="a\"b"}`)
	stream = protowire.AppendBytes(protowire.AppendTag(stream, 2, protowire.BytesType), entry)
	req = protowire.AppendBytes(protowire.AppendTag(req, 1, protowire.BytesType), stream)
	if code := s.post(t, "/loki/api/v1/push", "application/x-protobuf", "", snappy.Encode(nil, req)); code != 204 {
		t.Fatalf("protobuf: %d", code)
	}
	recs := s.records(t).Records
	if len(recs) != 5 {
		t.Fatalf("want 5 records, got %+v", recs)
	}
	if r := recs[1]; r.Source != "push" || r.Resource["job"] != "test" || r.Body != "with metadata" ||
		r.Attributes["trace_id"] != "abc" || r.TimeUnixNano != "1700000000000000002" {
		t.Fatalf("json record: %+v", r)
	}
	if r := recs[4]; r.Resource["job"] != "proto" || r.Resource["path"] != `a"b` || r.Body != "proto line" ||
		r.Attributes["user"] != "alice" || r.TimeUnixNano != "1700000000000000005" {
		t.Fatalf("protobuf record: %+v", r)
	}
}

func TestBadRequests(t *testing.T) {
	s := startStandin(t, t.TempDir())
	for _, c := range []struct {
		path, ctype, enc, body string
		want                   int
	}{
		{"/otlp/v1/logs", "text/plain", "", "x", 415},
		{"/otlp/v1/logs", "application/x-protobuf", "br", "x", 415},
		{"/otlp/v1/logs", "application/x-protobuf", "", "\xff\xff\xff", 400},
		{"/otlp/v1/logs", "application/json", "", "{not json", 400},
		{"/otlp/v1/logs", "application/json", "gzip", "not gzip", 400},
		{"/loki/api/v1/push", "text/plain", "", "x", 415},
		{"/loki/api/v1/push", "application/json", "", `{"streams":[{"stream":{},"values":[["x","y"]]}]}`, 400},
		{"/loki/api/v1/push", "application/x-protobuf", "", "not snappy", 400},
		{"/nowhere", "application/json", "", "{}", 404},
	} {
		if got := s.post(t, c.path, c.ctype, c.enc, []byte(c.body)); got != c.want {
			t.Errorf("%s %s %s: got %d, want %d", c.path, c.ctype, c.enc, got, c.want)
		}
	}
	if n := len(s.records(t).Records); n != 0 {
		t.Fatalf("bad requests stored %d records", n)
	}
	resp, _ := http.Get(s.URL + "/ready")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ready" {
		t.Fatalf("ready: %d %q", resp.StatusCode, body)
	}
	resp, _ = http.Get(s.URL + "/metrics")
	body, _ = io.ReadAll(resp.Body)
	for _, want := range []string{`loki_standin_requests_total{route="otlp",code="415"} 2`,
		"loki_standin_records_stored_total 0", `loki_standin_info{version="dev"} 1`, "loki_standin_duplicates_ignored_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestDuplicatesAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := startStandin(t, dir)
	pb, _ := plogotlp.NewExportRequestFromLogs(otlpLogs("once")).MarshalProto()
	for i := 0; i < 3; i++ { // a collector retrying the same batch
		if code := s.post(t, "/otlp/v1/logs", "application/x-protobuf", "", pb); code != 204 {
			t.Fatalf("push %d: %d", i, code)
		}
	}
	if r := s.records(t); len(r.Records) != 1 || r.DuplicatesIgnored != 2 {
		t.Fatalf("want 1 record and 2 duplicates, got %+v", r)
	}
	s.Close()
	s.st.f.Close()

	s2 := startStandin(t, dir) // a restart on the same data dir
	if r := s2.records(t); len(r.Records) != 1 || r.Records[0].Body != "once" {
		t.Fatalf("after restart: %+v", r)
	}
	s2.post(t, "/otlp/v1/logs", "application/x-protobuf", "", pb)
	if r := s2.records(t); len(r.Records) != 1 || r.DuplicatesIgnored != 1 {
		t.Fatalf("duplicate after restart not recognised: %+v", r)
	}
}

func TestTornLastLine(t *testing.T) {
	dir := t.TempDir()
	good := `{"source":"push","resource":{"job":"a"},"scope":{"name":"","version":""},"attributes":{},"body":"kept","time_unix_nano":"1","observed_time_unix_nano":"0","severity_text":"","severity_number":0,"trace_id":"","span_id":"","received_unix_nano":"5"}` + "\n"
	file := filepath.Join(dir, "records.jsonl")
	os.WriteFile(file, []byte(good+`{"source":"push","resou`), 0o640)
	s := startStandin(t, dir)
	if r := s.records(t); len(r.Records) != 1 || r.Records[0].Body != "kept" {
		t.Fatalf("records: %+v", r)
	}
	if data, _ := os.ReadFile(file); string(data) != good {
		t.Fatalf("torn line not truncated: %q", data)
	}
	s.post(t, "/loki/api/v1/push", "application/json", "", []byte(`{"streams":[{"stream":{"job":"b"},"values":[["2","next"]]}]}`))
	data, _ := os.ReadFile(file)
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != 2 || !json.Valid([]byte(lines[1])) {
		t.Fatalf("file after append: %q", data)
	}
}

func setFault(t *testing.T, s *standin, body string) {
	t.Helper()
	if code := s.post(t, "/standin/fault", "application/json", "", []byte(body)); code != 200 {
		t.Fatalf("fault %s: %d", body, code)
	}
}

func pushLine(line string) []byte {
	return []byte(`{"streams":[{"stream":{"job":"f"},"values":[["1","` + line + `"]]}]}`)
}

func TestFaultRefuse(t *testing.T) {
	s := startStandin(t, t.TempDir())
	setFault(t, s, `{"mode":"refuse","seconds":0.2}`)
	resp, _ := http.Get(s.URL + "/standin/fault")
	var f struct {
		Mode string  `json:"mode"`
		Left float64 `json:"remaining_seconds"`
	}
	json.NewDecoder(resp.Body).Decode(&f)
	if f.Mode != "refuse" || f.Left <= 0 || f.Left > 0.2 {
		t.Fatalf("fault state: %+v", f)
	}
	if code := s.post(t, "/loki/api/v1/push", "application/json", "", pushLine("a")); code != 503 {
		t.Fatalf("during refuse: %d", code)
	}
	time.Sleep(250 * time.Millisecond)
	if code := s.post(t, "/loki/api/v1/push", "application/json", "", pushLine("a")); code != 204 {
		t.Fatalf("after refuse: %d", code)
	}
	setFault(t, s, `{"mode":"refuse","seconds":60}`)
	setFault(t, s, `{"mode":"none"}`)
	if code := s.post(t, "/loki/api/v1/push", "application/json", "", pushLine("b")); code != 204 {
		t.Fatalf("after clearing: %d", code)
	}
	if code := s.post(t, "/standin/fault", "application/json", "", []byte(`{"mode":"explode"}`)); code != 400 {
		t.Fatalf("bad fault mode: %d", code)
	}
}

func TestFaultStall(t *testing.T) {
	s := startStandin(t, t.TempDir())
	setFault(t, s, `{"mode":"stall","seconds":0.3}`)
	start := time.Now()
	if code := s.post(t, "/loki/api/v1/push", "application/json", "", pushLine("held")); code != 204 {
		t.Fatalf("stalled push: %d", code)
	}
	if held := time.Since(start); held < 250*time.Millisecond {
		t.Fatalf("not held: %v", held)
	}
	// A client that gives up during a stall: its request had arrived, so it is
	// still stored once the client has gone, and the retry is a duplicate.
	setFault(t, s, `{"mode":"stall","seconds":0.3}`)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/loki/api/v1/push", bytes.NewReader(pushLine("gave up")))
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("client did not time out")
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(s.records(t).Records) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.post(t, "/loki/api/v1/push", "application/json", "", pushLine("gave up"))
	if r := s.records(t); len(r.Records) != 2 || r.Records[1].Body != "gave up" || r.DuplicatesIgnored != 1 {
		t.Fatalf("records: %+v", r)
	}
}
