package main

// HTTP side: Loki's /ready, /metrics and the two ingestion endpoints, plus
// the stand-in-only /standin/records (read back what was stored) and
// /standin/fault (make ingestion refuse or stall, to test client retries).

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sync"
	"time"
)

const maxBody = 100 << 20 // Loki's default distributor max_recv_msg_size (100 MiB)

type server struct {
	st *store

	mu        sync.Mutex
	faultMode string           // "refuse" or "stall"; anything else is no fault
	faultEnd  time.Time        // the fault holds until then
	requests  map[string]int64 // by label set: route="otlp",code="204"
	stop      chan struct{}    // closed on shutdown: releases stalled requests
}

func newServer(st *store) *server {
	return &server{st: st, requests: map[string]int64{}, stop: make(chan struct{})}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			cw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
			h(cw, r)
			s.count(route, cw.code)
			logf("debug", "request", "route", route, "code", cw.code)
		})
	}
	handle("GET /ready", "ready", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ready") })
	handle("POST /otlp/v1/logs", "otlp", s.ingest("otlp"))
	handle("POST /loki/api/v1/push", "push", s.ingest("push"))
	handle("GET /metrics", "metrics", s.metrics)
	handle("GET /standin/records", "records", s.records)
	handle("GET /standin/fault", "fault", s.fault)
	handle("POST /standin/fault", "fault", s.fault)
	handle("/", "other", http.NotFound)
	return mux
}

// ingest handles both ingestion endpoints. The order matters to tests: a
// refused request is answered at once; a stalled one is read, held until the
// stall ends (or the client gives up), then stored as normal - so a client
// that timed out and retries sends a duplicate, as it would to a slow Loki.
func (s *server) ingest(source string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mode, _ := s.currentFault(); mode == "refuse" {
			http.Error(w, "loki stand-in: refusing (injected fault)", http.StatusServiceUnavailable)
			return
		}
		ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		isJSON := ctype == "application/json"
		if !isJSON && ctype != "application/x-protobuf" && !(source == "push" && ctype == "") {
			http.Error(w, "unsupported content type "+ctype, http.StatusUnsupportedMediaType)
			return
		}
		body, code, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), code)
			return
		}
		var recs []Record
		switch {
		case source == "otlp":
			recs, err = decodeOTLP(body, isJSON)
		case isJSON:
			recs, err = decodePushJSON(body)
		default:
			recs, err = decodePushProto(body)
		}
		if err != nil {
			http.Error(w, "cannot decode request: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.hold(r.Context())
		stored, dups, err := s.st.add(recs)
		if err != nil {
			logf("error", "storing failed", "source", source, "err", err)
			http.Error(w, "loki stand-in: storing failed", http.StatusInternalServerError)
			return
		}
		logf("info", "stored", "source", source, "records", stored, "duplicates", dups)
		w.WriteHeader(http.StatusNoContent) // Loki answers both endpoints with 204
	}
}

// readBody reads the request body, gunzipping it for Content-Encoding: gzip.
func readBody(r *http.Request) ([]byte, int, error) {
	var in io.Reader = http.MaxBytesReader(nil, r.Body, maxBody)
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("bad gzip body: %v", err)
		}
		in = io.LimitReader(zr, maxBody+1)
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported content encoding %s", enc)
	}
	body, err := io.ReadAll(in)
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("body over %d bytes", maxBody)
	}
	return body, http.StatusBadRequest, err
}

// hold waits while a stall is on: until it ends or is cleared, the client
// goes away or the server stops. It polls, so a changed stall is honoured.
func (s *server) hold(ctx context.Context) {
	for {
		if mode, _ := s.currentFault(); mode != "stall" {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *server) currentFault() (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := time.Until(s.faultEnd)
	if left <= 0 || (s.faultMode != "refuse" && s.faultMode != "stall") {
		return "none", 0
	}
	return s.faultMode, left
}

// fault: POST {"mode":"refuse"|"stall"|"none","seconds":N} sets the fault for
// N seconds (in memory only: a restart clears it); GET shows it.
func (s *server) fault(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req struct {
			Mode    string  `json:"mode"`
			Seconds float64 `json:"seconds"`
		}
		err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req)
		if err != nil || (req.Mode != "refuse" && req.Mode != "stall" && req.Mode != "none") || req.Seconds < 0 {
			http.Error(w, `want {"mode":"refuse"|"stall"|"none","seconds":N}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.faultMode, s.faultEnd = req.Mode, time.Now().Add(time.Duration(req.Seconds*float64(time.Second)))
		s.mu.Unlock()
		logf("info", "fault set", "mode", req.Mode, "seconds", req.Seconds)
	}
	mode, left := s.currentFault()
	writeJSON(w, map[string]any{"mode": mode, "remaining_seconds": left.Seconds()})
}

func (s *server) records(w http.ResponseWriter, r *http.Request) {
	lines, _, dups := s.st.snapshot()
	writeJSON(w, map[string]any{"records": lines, "duplicates_ignored": dups})
}

// metrics writes the Prometheus text format by hand: a few honest counters.
func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	_, stored, dups := s.st.snapshot()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# TYPE loki_standin_info gauge\nloki_standin_info{version=%q} 1\n", version)
	fmt.Fprintf(w, "# TYPE loki_standin_records_stored_total counter\nloki_standin_records_stored_total %d\n", stored)
	fmt.Fprintf(w, "# TYPE loki_standin_duplicates_ignored_total counter\nloki_standin_duplicates_ignored_total %d\n", dups)
	fmt.Fprintf(w, "# TYPE loki_standin_requests_total counter\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, labels := range slices.Sorted(maps.Keys(s.requests)) {
		fmt.Fprintf(w, "loki_standin_requests_total{%s} %d\n", labels, s.requests[labels])
	}
}

func (s *server) count(route string, code int) {
	s.mu.Lock()
	s.requests[fmt.Sprintf("route=%q,code=\"%d\"", route, code)]++
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// codeWriter remembers the status code for the requests counter.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}
