package main

// Durable record store: one JSON object per line in
// <common.path_prefix>/standin/records.jsonl, appended and fsync'ed before a
// push is answered, so a test can restart (or kill -9) the service after a
// success answer and still find every acknowledged record.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Record is one stored log entry, from either ingestion endpoint.
type Record struct {
	Source               string         `json:"source"` // "otlp" or "push"
	Resource             map[string]any `json:"resource"`
	Scope                Scope          `json:"scope"`
	Attributes           map[string]any `json:"attributes"`
	Body                 any            `json:"body"`
	TimeUnixNano         string         `json:"time_unix_nano"`
	ObservedTimeUnixNano string         `json:"observed_time_unix_nano"`
	SeverityText         string         `json:"severity_text"`
	SeverityNumber       int32          `json:"severity_number"`
	TraceID              string         `json:"trace_id"`
	SpanID               string         `json:"span_id"`
	ReceivedUnixNano     string         `json:"received_unix_nano"`
}

type Scope struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type store struct {
	mu         sync.Mutex
	f          *os.File
	size       int64             // bytes of complete lines in the file
	lines      []json.RawMessage // every stored record, in arrival order
	seen       map[[32]byte]bool // content hashes of stored records
	duplicates int64             // ignored since this process started
	stored     int64             // stored since this process started
}

// openStore loads the file, dropping a torn last line (a crash mid-append
// leaves a line without its newline; it was never acknowledged).
func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "records.jsonl")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &store{f: f, seen: map[[32]byte]bool{}}
	complete := data[:bytes.LastIndexByte(data, '\n')+1]
	for i, line := range bytes.Split(bytes.TrimSuffix(complete, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		h, err := contentHash(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d is not a record: %v", path, i+1, err)
		}
		s.lines, s.seen[h] = append(s.lines, json.RawMessage(line)), true
	}
	if len(complete) < len(data) {
		logf("warn", "dropped a torn last line left by a crash", "file", path, "bytes", len(data)-len(complete))
		if err := f.Truncate(int64(len(complete))); err != nil {
			return nil, err
		}
	}
	s.size = int64(len(complete))
	// Make the file's directory entry durable too (it may have just been created).
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return s, nil
}

// contentHash is the sha256 of the record's canonical JSON without
// received_unix_nano: two pushes of the same entry hash alike. Decoding with
// UseNumber keeps numbers as written, so a reload hashes exactly as before.
func contentHash(line []byte) ([32]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return [32]byte{}, err
	}
	delete(m, "received_unix_nano")
	canon, err := json.Marshal(m) // map keys come out sorted
	return sha256.Sum256(canon), err
}

// add stores the records that are not duplicates and fsyncs them. Only when
// it returns nil may the push be answered with success.
func (s *store) add(recs []Record) (stored, dups int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf bytes.Buffer
	var lines []json.RawMessage
	fresh := map[[32]byte]bool{} // also catches a record repeated within the batch
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	for _, r := range recs {
		r.ReceivedUnixNano = now
		line, err := json.Marshal(r)
		h, err2 := contentHash(line)
		if err != nil || err2 != nil {
			return 0, 0, cmp.Or(err, err2)
		}
		if s.seen[h] || fresh[h] {
			dups++
			continue
		}
		fresh[h], lines = true, append(lines, line)
		buf.Write(append(line, '\n'))
	}
	if _, err = s.f.WriteAt(buf.Bytes(), s.size); err == nil {
		err = s.f.Sync()
	}
	if err != nil {
		s.f.Truncate(s.size) // best effort: leave no half-written batch behind
		return 0, 0, err
	}
	s.size += int64(buf.Len())
	s.lines = append(s.lines, lines...)
	maps.Copy(s.seen, fresh)
	s.stored, s.duplicates = s.stored+int64(len(lines)), s.duplicates+int64(dups)
	return len(lines), dups, nil
}

// snapshot returns the stored lines and counters for /standin/records and
// /metrics.
func (s *store) snapshot() (lines []json.RawMessage, stored, dups int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(make([]json.RawMessage, 0, len(s.lines)), s.lines...), s.stored, s.duplicates
}
