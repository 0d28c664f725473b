// Command loki-linux-amd64 is a small stand-in for Grafana Loki, used only in
// this collection's tests. Loki is AGPL, so the tests do not build or run it:
// this program takes its place under Loki's release archive name so the loki
// role's real install path (download, checksum, unpack, systemd unit, config,
// -verify-config, restart, GET /ready) runs unchanged. It checks the config
// like Loki (keys and types from Loki's published configuration reference),
// accepts OTLP and Loki-push logs, and keeps every record durably for tests
// to read back. It is not Grafana Loki: see README.md for what it lacks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// version is set at build time: -ldflags "-X main.version=3.7.8".
var version = "dev"

func main() {
	fs := flag.NewFlagSet("loki", flag.ExitOnError)
	configFile := fs.String("config.file", "", "configuration file to load (required; a comma-separated list uses the first that exists)")
	verify := fs.Bool("verify-config", false, "check the configuration and exit")
	expandEnv := fs.Bool("config.expand-env", false, "expand ${VAR} and ${VAR:-default} in the configuration before parsing")
	showVersion := fs.Bool("version", false, "print the version and exit")
	logLevel := fs.String("log.level", "", "log level: debug, info, warn or error (overrides server.log_level)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "loki stand-in for tests (not Grafana Loki), version %s\nUsage of %s:\n", version, os.Args[0])
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:]) // an unknown flag prints usage and exits 2, as in Loki

	if *showVersion {
		fmt.Printf("loki, version %s (stand-in for tests, not Grafana Loki)\n", version)
		return
	}
	if *configFile == "" {
		fmt.Fprintln(os.Stderr, "level=error msg=\"-config.file is required\" (loki stand-in)")
		os.Exit(1)
	}
	cfg, problems := loadConfig(*configFile, *expandEnv)
	for _, p := range problems { // one line per problem, as the role's validate step shows them
		fmt.Fprintf(os.Stderr, "level=error msg=\"invalid config\" file=%q line=%d path=%q problem=%q (loki stand-in)\n",
			*configFile, p.Line, p.Path, p.What)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	if *verify {
		fmt.Fprintln(os.Stderr, `level=info msg="config is valid" (loki stand-in)`)
		return
	}
	if *logLevel != "" {
		cfg.LogLevel = *logLevel
	}
	if _, ok := levels[cfg.LogLevel]; !ok {
		fmt.Fprintf(os.Stderr, "level=error msg=\"unknown log level\" level=%q (loki stand-in)\n", cfg.LogLevel)
		os.Exit(1)
	}
	minLevel = levels[cfg.LogLevel]
	if err := run(cfg); err != nil {
		logf("error", "stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until SIGTERM or SIGINT (systemctl stop/restart), then drains.
func run(cfg settings) error {
	st, err := openStore(filepath.Join(cfg.PathPrefix, "standin"))
	if err != nil {
		return fmt.Errorf("opening record store: %w", err)
	}
	s := newServer(st)
	srv := &http.Server{Addr: cfg.ListenAddr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(func() { close(s.stop) })
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	drained := make(chan struct{})
	go func() { // let requests in flight finish (and store) before the file closes
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		close(drained)
	}()
	lines, _, _ := st.snapshot()
	logf("info", "starting Loki stand-in (not Grafana Loki)", "version", version, "addr", cfg.ListenAddr,
		"records", len(lines), "dir", filepath.Join(cfg.PathPrefix, "standin"))
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	logf("info", "Loki stand-in stopped")
	return st.f.Close()
}

var levels = map[string]int{"debug": 0, "info": 1, "warn": 2, "error": 3}
var minLevel = 1

// logf writes one logfmt line to stderr (journald keeps it). Callers pass
// counts and names only: record contents may carry user data and are never
// logged.
func logf(level, msg string, kv ...any) {
	if levels[level] < minLevel {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ts=%s level=%s component=loki-standin msg=%q", time.Now().UTC().Format(time.RFC3339Nano), level, msg)
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if v == "" || strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %v=%s", kv[i], v)
	}
	fmt.Fprintln(os.Stderr, b.String())
}
