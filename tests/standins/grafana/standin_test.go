package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func init() { minLevel = 3 } // keep test output quiet

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// home lays out a homepath with the packaged defaults.ini.
func home(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("package/conf/defaults.ini")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "conf", "defaults.ini"), string(data))
	return dir
}

func TestINIQuotingAndComments(t *testing.T) {
	f, err := parseINI([]byte("[security]\nadmin_password = \"\"\"p#ss;word\"\"\"\nplain = ab#cd\nquoted = \"x;y\"\ntick = `a;b`\n; comment\n# comment\n"), "t.ini")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"admin_password": "p#ss;word", "plain": "ab", "quoted": `"x`, "tick": "a;b"} {
		if got := f.get("security", k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if _, err := parseINI([]byte("[server]\nthis is not a setting\n"), "bad.ini"); err == nil {
		t.Error("a line without a delimiter was accepted")
	}
}

func TestSettingsOrder(t *testing.T) {
	dir := home(t)
	cfg := filepath.Join(dir, "grafana.ini")
	write(t, cfg, "[paths]\nprovisioning = /etc/grafana/provisioning-from-ini\n[server]\nhttp_port = 3001\nhttp_addr = 127.0.0.1\n")
	t.Setenv("GF_SERVER_HTTP_ADDR", "127.0.0.2")
	set, err := loadSettings(cmdline{HomePath: dir, Config: cfg,
		Defaults:  [][3]string{{"paths", "provisioning", "/etc/grafana/provisioning"}, {"paths", "data", "/var/lib/grafana"}},
		Overrides: [][3]string{{"server", "http_port", "3002"}}})
	if err != nil {
		t.Fatal(err)
	}
	if set.Provisioning != "/etc/grafana/provisioning-from-ini" { // the file wins over cfg:default.
		t.Errorf("provisioning %q", set.Provisioning)
	}
	if set.DataDir != "/var/lib/grafana" || set.HTTPPort != 3002 || set.HTTPAddr != "127.0.0.2" {
		t.Errorf("data %q port %d addr %q", set.DataDir, set.HTTPPort, set.HTTPAddr)
	}
	if set.LogsDir != filepath.Join(dir, "data/log") { // relative to the homepath
		t.Errorf("logs %q", set.LogsDir)
	}
	if _, err := loadSettings(cmdline{HomePath: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "homepath") {
		t.Errorf("missing defaults.ini: %v", err)
	}
	if _, err := loadSettings(cmdline{HomePath: dir, Config: filepath.Join(dir, "missing.ini")}); err == nil {
		t.Error("a missing --config file was accepted")
	}
}

type rig struct {
	t    *testing.T
	prov string
	dash string
	srv  *httptest.Server
	st   *store
	p    *provisioner
}

func newRig(t *testing.T, password string) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, prov: filepath.Join(dir, "provisioning"), dash: filepath.Join(dir, "dashboards")}
	r.start(filepath.Join(dir, "data"), password, false)
	return r
}

func (r *rig) start(data, password string, anonymous bool) {
	st, _, err := openStore(data, "admin", password)
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
	r.p = &provisioner{dir: r.prov, st: st}
	s := &server{set: settings{AnonymousEnabled: anonymous, AnonymousRole: "Viewer"}, st: st, prov: r.p, version: "test"}
	if r.srv != nil {
		r.srv.Close()
	}
	r.srv = httptest.NewServer(s.routes())
	r.t.Cleanup(r.srv.Close)
}

func (r *rig) call(method, path, user, password string, out any) int {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.srv.URL+path, nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

const pw = "a-long-test-password"

func (r *rig) datasources() map[string]map[string]any {
	var list []map[string]any
	if code := r.call("GET", "/api/datasources", "admin", pw, &list); code != 200 {
		r.t.Fatalf("GET /api/datasources: %d", code)
	}
	out := map[string]map[string]any{}
	for _, d := range list {
		out[d["uid"].(string)] = d
	}
	return out
}

func TestDatasourcesDeleteAndPrune(t *testing.T) {
	r := newRig(t, pw)
	ds := filepath.Join(r.prov, "datasources", "stack.yaml")
	write(t, filepath.Join(r.prov, "datasources", "sample.yaml"), "# apiVersion: 1\n")
	write(t, ds, `apiVersion: 1
datasources:
  - {name: Prometheus, uid: prometheus, type: prometheus, url: "http://127.0.0.1:9090", isDefault: true}
  - {name: Loki, uid: loki, type: loki, url: "http://127.0.0.1:3100"}
  - {name: Extra, uid: extra, type: prometheus, url: "http://10.0.0.9:9090"}
`)
	if err := r.p.provisionDatasources("startup"); err != nil {
		t.Fatal(err)
	}
	got := r.datasources()
	if len(got) != 3 || got["prometheus"]["url"] != "http://127.0.0.1:9090" || got["loki"]["type"] != "loki" || got["prometheus"]["isDefault"] != true {
		t.Fatalf("datasources: %v", got)
	}
	// Dropped from the file without deleteDatasources or prune: it stays (as in Grafana).
	write(t, ds, "apiVersion: 1\ndatasources:\n  - {name: Prometheus, uid: prometheus, type: prometheus, url: \"http://127.0.0.1:9090\"}\n  - {name: Loki, uid: loki, type: loki, url: \"http://127.0.0.1:3100\"}\n")
	r.p.provisionDatasources("api")
	if _, ok := r.datasources()["extra"]; !ok {
		t.Fatal("a datasource dropped without deleteDatasources/prune was deleted")
	}
	// deleteDatasources by name removes it.
	write(t, ds, "apiVersion: 1\ndeleteDatasources:\n  - {name: Extra, orgId: 1}\ndatasources:\n  - {name: Prometheus, uid: prometheus, type: prometheus, url: \"http://127.0.0.1:9090\"}\n  - {name: Loki, uid: loki, type: loki, url: \"http://127.0.0.1:3100\"}\n")
	r.p.provisionDatasources("api")
	if _, ok := r.datasources()["extra"]; ok {
		t.Fatal("deleteDatasources did not delete")
	}
	// prune: a provisioned datasource gone from every file goes.
	write(t, ds, "apiVersion: 1\nprune: true\ndatasources:\n  - {name: Prometheus, uid: prometheus, type: prometheus, url: \"http://127.0.0.1:9090\"}\n  - {name: Loki, uid: loki, type: loki, url: \"http://127.0.0.1:3100\"}\n")
	r.p.provisionDatasources("api")
	write(t, ds, "apiVersion: 1\nprune: true\ndatasources:\n  - {name: Prometheus, uid: prometheus, type: prometheus, url: \"http://127.0.0.1:9090\"}\n")
	r.p.provisionDatasources("api")
	if _, ok := r.datasources()["loki"]; ok {
		t.Fatal("prune did not delete")
	}
	// Two defaults: refused, nothing changes.
	write(t, ds, "apiVersion: 1\ndatasources:\n  - {name: A, type: prometheus, isDefault: true}\n  - {name: B, type: loki, isDefault: true}\n")
	if err := r.p.provisionDatasources("api"); err == nil || !strings.Contains(err.Error(), "default") {
		t.Fatalf("two defaults: %v", err)
	}
	if len(r.datasources()) != 1 {
		t.Fatal("a refused file changed the datasources")
	}
	write(t, ds, "apiVersion: 1\ndatasources: [ {name: A, type: prometheus ]\n")
	if err := r.p.provisionDatasources("api"); err == nil {
		t.Fatal("broken YAML accepted")
	}
}

func (r *rig) search() map[string]map[string]any {
	var list []map[string]any
	if code := r.call("GET", "/api/search?type=dash-db", "admin", pw, &list); code != 200 {
		r.t.Fatalf("search: %d", code)
	}
	out := map[string]map[string]any{}
	for _, d := range list {
		out[d["uid"].(string)] = d
	}
	return out
}

func TestDashboardsProvider(t *testing.T) {
	r := newRig(t, pw)
	write(t, filepath.Join(r.prov, "dashboards", "claude.yaml"), `apiVersion: 1
providers:
  - name: claude-code
    folder: Claude Code
    folderUid: claude-code
    type: file
    disableDeletion: false
    allowUiUpdates: false
    updateIntervalSeconds: 3600
    options:
      path: `+r.dash+"\n")
	write(t, filepath.Join(r.dash, "a.json"), `{"uid": "cc-a", "title": "A", "tags": ["claude-code"]}`)
	write(t, filepath.Join(r.dash, "b.json"), `{"uid": "cc-b", "title": "B"}`)
	write(t, filepath.Join(r.dash, "broken.json"), `{"uid": "cc-c", "title": `)
	write(t, filepath.Join(r.dash, "untitled.json"), `{"uid": "cc-d"}`)
	write(t, filepath.Join(r.dash, "dup.json"), `{"uid": "cc-a", "title": "A again"}`)
	if err := r.p.provisionDashboards("startup", nil); err != nil {
		t.Fatal(err)
	}
	got := r.search()
	if len(got) != 2 || got["cc-a"]["folderTitle"] != "Claude Code" || got["cc-a"]["folderUid"] != "claude-code" {
		t.Fatalf("dashboards: %v", got)
	}
	ev := r.p.history()[0]
	if len(ev.Refused) != 3 {
		t.Fatalf("refused: %+v", ev.Refused)
	}
	var one map[string]map[string]any
	r.call("GET", "/api/dashboards/uid/cc-a", "admin", pw, &one)
	if one["meta"]["provisioned"] != true || one["meta"]["canSave"] != false || one["meta"]["provisionedExternalId"] != "a.json" {
		t.Fatalf("meta: %v", one["meta"])
	}
	os.Remove(filepath.Join(r.dash, "b.json"))
	r.p.provisionDashboards("api", nil)
	if _, ok := r.search()["cc-b"]; ok {
		t.Fatal("a dashboard whose file is gone is still there")
	}
	// The file is still there but no longer valid: the last good version stays.
	write(t, filepath.Join(r.dash, "a.json"), `{"uid": "cc-a", "title": `)
	r.p.provisionDashboards("api", nil)
	if _, ok := r.search()["cc-a"]; !ok {
		t.Fatal("a dashboard with a broken file was deleted")
	}
	// The provider goes: its dashboards go.
	os.Remove(filepath.Join(r.prov, "dashboards", "claude.yaml"))
	r.p.provisionDashboards("api", nil)
	if len(r.search()) != 0 {
		t.Fatal("dashboards of a removed provider stayed")
	}
}

func TestAuthReloadAndAdminPassword(t *testing.T) {
	r := newRig(t, pw)
	if code := r.call("POST", "/api/admin/provisioning/dashboards/reload", "", "", nil); code != 401 {
		t.Fatalf("anonymous reload: %d", code)
	}
	if code := r.call("POST", "/api/admin/provisioning/datasources/reload", "admin", "wrong", nil); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if code := r.call("GET", "/api/search", "", "", nil); code != 401 {
		t.Fatalf("anonymous search with anonymous access off: %d", code)
	}
	var msg map[string]string
	if code := r.call("POST", "/api/admin/provisioning/dashboards/reload", "admin", pw, &msg); code != 200 || msg["message"] != "Dashboards config reloaded" {
		t.Fatalf("reload: %d %v", code, msg)
	}
	r.call("POST", "/api/admin/provisioning/datasources/reload", "admin", pw, nil)
	var rel struct {
		OK    map[string]int `json:"ok"`
		Calls []apiCall      `json:"calls"`
	}
	r.call("GET", "/standin/reloads", "", "", &rel)
	if rel.OK["dashboards"] != 1 || rel.OK["datasources"] != 1 || len(rel.Calls) != 4 {
		t.Fatalf("reloads: %+v", rel)
	}
	// The admin user is created once: a new password in the config is ignored.
	data := filepath.Dir(r.st.path)
	r.start(data, "another-password-entirely", true)
	if code := r.call("GET", "/api/user", "admin", "another-password-entirely", nil); code != 401 {
		t.Fatalf("config password after creation: %d", code)
	}
	if code := r.call("GET", "/api/user", "admin", pw, nil); code != 200 {
		t.Fatalf("original password: %d", code)
	}
	// Anonymous access on: viewers may search, not reload.
	if code := r.call("GET", "/api/search", "", "", nil); code != 200 {
		t.Fatalf("anonymous search: %d", code)
	}
	if code := r.call("POST", "/api/admin/provisioning/dashboards/reload", "", "", nil); code != 403 {
		t.Fatalf("anonymous reload: %d", code)
	}
}
