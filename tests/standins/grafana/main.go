// Command grafana is a small stand-in for Grafana, used only in this
// collection's tests. Grafana is AGPL, so the tests do not fetch, build or run
// it: this program takes its place, packaged with Grafana's upstream layout
// (the .deb of Grafana's APT repository and the standalone tarball), so the
// grafana role's real install and provisioning path runs unchanged: it reads
// grafana.ini as Grafana does, loads file provisioning (datasources and
// dashboard providers with their JSON files), serves the part of the HTTP API
// the role and tests use (health, datasources, search, dashboards, the two
// provisioning reload endpoints) and reports what it loaded under /standin/.
// It is not Grafana: there is no UI, no query proxy, no alerting, no plugins.
// See README.md for what it checks and what it lacks.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// version is the Grafana version it stands in for: -ldflags "-X main.version=13.2.0".
var version = "dev"

const usage = `grafana stand-in for tests (not Grafana), version %s

Usage:
  grafana server [--config=FILE] [--homepath=DIR] [--pidfile=FILE] [--packaging=deb|tar.gz] [cfg:default.section.key=value ...] [cfg:section.key=value ...]
  grafana --version
`

func main() {
	args := os.Args[1:]
	// Grafana's old entry point grafana-server takes the server flags directly.
	if filepath.Base(os.Args[0]) != "grafana-server" {
		if len(args) == 0 {
			fmt.Fprintf(os.Stderr, usage, version)
			os.Exit(2)
		}
		switch args[0] {
		case "-v", "-V", "--version", "-version", "version":
			fmt.Printf("grafana version %s (stand-in for tests, not Grafana)\n", version)
			return
		case "-h", "--help", "help":
			fmt.Printf(usage, version)
			return
		case "server":
			args = args[1:]
		default:
			fmt.Fprintf(os.Stderr, "grafana stand-in: unknown command %q (only `server` is provided)\n", args[0])
			os.Exit(2)
		}
	}
	cl, err := parseServerArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grafana stand-in: %v\n", err)
		os.Exit(2)
	}
	if err := run(cl); err != nil {
		logf("error", "server", "stopped", "error", err)
		os.Exit(1)
	}
}

// parseServerArgs reads `--name=value`, `--name value` (one or two dashes)
// and cfg: settings. An unknown flag is an error, as in Grafana.
func parseServerArgs(args []string) (cmdline, error) {
	var cl cmdline
	for i := 0; i < len(args); i++ {
		a := args[i]
		if rest, ok := strings.CutPrefix(a, "cfg:"); ok {
			if d, ok := strings.CutPrefix(rest, "default."); ok {
				kv, err := splitCfgArg(d)
				if err != nil {
					return cl, err
				}
				cl.Defaults = append(cl.Defaults, kv)
			} else {
				kv, err := splitCfgArg(rest)
				if err != nil {
					return cl, err
				}
				cl.Overrides = append(cl.Overrides, kv)
			}
			continue
		}
		if !strings.HasPrefix(a, "-") {
			return cl, fmt.Errorf("unexpected argument %q", a)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takeValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: --%s", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "config":
			cl.Config, err = takeValue()
		case "homepath":
			cl.HomePath, err = takeValue()
		case "pidfile":
			cl.PidFile, err = takeValue()
		case "packaging":
			cl.Packaging, err = takeValue()
		case "profile", "tracing":
			// accepted and ignored
		default:
			return cl, fmt.Errorf("flag provided but not defined: -%s", name)
		}
		if err != nil {
			return cl, err
		}
	}
	return cl, nil
}

func run(cl cmdline) error {
	set, err := loadSettings(cl)
	if err != nil {
		return fmt.Errorf("failed to load configuration: %w", err)
	}
	if lvl, ok := levels[strings.ToLower(strings.Fields(set.LogLevel + " info")[0])]; ok {
		minLevel = lvl
	}
	logf("info", "server", "Starting Grafana stand-in (not Grafana)", "version", version, "config", set.ConfigFile,
		"homepath", set.HomePath, "provisioning", set.Provisioning, "data", set.DataDir, "uid", os.Getuid())
	if err := os.MkdirAll(set.LogsDir, 0o750); err != nil {
		return fmt.Errorf("logs directory: %w", err)
	}
	st, created, err := openStore(set.DataDir, set.AdminUser, set.AdminPassword)
	if err != nil {
		return fmt.Errorf("database in %s: %w", set.DataDir, err)
	}
	if created {
		logf("info", "sqlstore", "Created default admin", "user", set.AdminUser)
	}
	if cl.PidFile != "" {
		if err := os.WriteFile(cl.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return fmt.Errorf("pid file: %w", err)
		}
		defer os.Remove(cl.PidFile)
	}
	prov := &provisioner{dir: set.Provisioning, st: st}
	// Grafana refuses to start when provisioning fails.
	if err := prov.provisionDatasources("startup"); err != nil {
		return fmt.Errorf("Failed to provision data sources: %w", err)
	}
	if err := prov.provisionDashboards("startup", nil); err != nil {
		return fmt.Errorf("Failed to provision dashboards: %w", err)
	}
	s := &server{set: set, cl: cl, st: st, prov: prov, version: version}
	addr := net.JoinHostPort(set.HTTPAddr, strconv.Itoa(set.HTTPPort))
	srv := &http.Server{Addr: addr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	logf("info", "http.server", "HTTP Server Listen", "address", addr, "protocol", set.Protocol)
	if set.Protocol == "http" {
		err = srv.ListenAndServe()
	} else {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		err = srv.ListenAndServeTLS(set.CertFile, set.CertKey)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logf("info", "server", "Grafana stand-in stopped")
	return nil
}

var levels = map[string]int{"debug": 0, "info": 1, "warn": 2, "error": 3, "critical": 3}
var minLevel = 1

// logf writes one logfmt line to stderr (journald keeps it), in Grafana's
// logger=... shape. No secret is ever passed to it.
func logf(level, logger, msg string, kv ...any) {
	if levels[level] < minLevel {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "logger=%s t=%s level=%s msg=%q", logger, time.Now().UTC().Format(time.RFC3339Nano), level, msg+" (grafana stand-in)")
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if v == "" || strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %v=%s", kv[i], v)
	}
	fmt.Fprintln(os.Stderr, b.String())
}
