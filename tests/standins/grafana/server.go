package main

// HTTP side: the parts of Grafana's HTTP API the collection's role and tests
// use, with Grafana's authentication rules for them (basic auth as the admin
// user created from grafana.ini; anonymous access only when [auth.anonymous]
// enabled), plus stand-in-only endpoints under /standin/ that report what it
// loaded and which reload calls it received.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

type apiCall struct {
	Kind   string    `json:"kind"` // dashboards or datasources
	At     time.Time `json:"at"`
	Status int       `json:"status"`
}

type server struct {
	set     settings
	cl      cmdline
	st      *store
	prov    *provisioner
	version string

	mu    sync.Mutex
	calls []apiCall
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func message(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"message": msg})
}

// role is "Admin" for the admin user, the anonymous org role when anonymous
// access is on and no credentials were sent, "" otherwise. Wrong credentials
// are refused even when anonymous access is on, as in Grafana.
func (s *server) role(r *http.Request) (string, bool) {
	login, password, ok := r.BasicAuth()
	if ok {
		if s.st.checkAdmin(login, password) {
			return "Admin", true
		}
		return "", false
	}
	if s.set.AnonymousEnabled {
		return s.set.AnonymousRole, true
	}
	return "", true
}

// need wraps a handler with the minimum role it requires.
func (s *server) need(min string, h http.HandlerFunc) http.HandlerFunc {
	rank := map[string]int{"": 0, "Viewer": 1, "Editor": 2, "Admin": 3}
	return func(w http.ResponseWriter, r *http.Request) {
		role, valid := s.role(r)
		switch {
		case !valid:
			message(w, http.StatusUnauthorized, "invalid username or password")
		case role == "":
			message(w, http.StatusUnauthorized, "Unauthorized")
		case rank[role] < rank[min]:
			message(w, http.StatusForbidden, "You'll need additional permissions to perform this action.")
		default:
			h(w, r)
		}
	}
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", s.health)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /api/user", s.need("Admin", s.currentUser))
	mux.HandleFunc("PUT /api/user/password", s.need("Admin", s.changePassword))
	mux.HandleFunc("GET /api/datasources", s.need("Admin", s.listDatasources))
	mux.HandleFunc("GET /api/datasources/uid/{uid}", s.need("Admin", s.getDatasource("uid")))
	mux.HandleFunc("GET /api/datasources/name/{name}", s.need("Admin", s.getDatasource("name")))
	mux.HandleFunc("GET /api/folders", s.need("Viewer", s.listFolders))
	mux.HandleFunc("GET /api/search", s.need("Viewer", s.search))
	mux.HandleFunc("GET /api/dashboards/uid/{uid}", s.need("Viewer", s.getDashboard))
	mux.HandleFunc("GET /api/admin/settings", s.need("Admin", s.adminSettings))
	mux.HandleFunc("POST /api/admin/provisioning/dashboards/reload", s.reload("dashboards"))
	mux.HandleFunc("POST /api/admin/provisioning/datasources/reload", s.reload("datasources"))
	mux.HandleFunc("GET /standin/info", s.info)
	mux.HandleFunc("GET /standin/reloads", s.reloads)
	mux.HandleFunc("GET /standin/provisioning", s.provisioningHistory)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		message(w, http.StatusNotFound, "Not found (grafana stand-in: no UI and only part of the API, see its README)")
	})
	return mux
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"database": "ok", "version": s.version, "commit": "standin-not-grafana"})
}

func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.mu.Lock()
	counts := map[string]int{}
	for _, c := range s.calls {
		counts[c.Kind+"/"+strconv.Itoa(c.Status)]++
	}
	s.mu.Unlock()
	fmt.Fprintf(w, "# HELP grafana_build_info Grafana stand-in build (not Grafana).\n# TYPE grafana_build_info gauge\n")
	fmt.Fprintf(w, "grafana_build_info{edition=\"standin\",version=%q} 1\n", s.version)
	fmt.Fprintf(w, "# HELP grafana_standin_reload_calls_total Calls of the provisioning reload API.\n# TYPE grafana_standin_reload_calls_total counter\n")
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kind, code, _ := strings.Cut(k, "/")
		fmt.Fprintf(w, "grafana_standin_reload_calls_total{kind=%q,code=%q} %d\n", kind, code, counts[k])
	}
}

func (s *server) currentUser(w http.ResponseWriter, r *http.Request) {
	login, _, _ := r.BasicAuth()
	writeJSON(w, http.StatusOK, map[string]any{"id": 1, "login": login, "isGrafanaAdmin": true, "orgId": 1})
}

// changePassword is PUT /api/user/password: the way to change the admin
// password of a running Grafana (grafana.ini is only read when the database
// is created).
func (s *server) changePassword(w http.ResponseWriter, r *http.Request) {
	var body struct {
		OldPassword string `json:"oldPassword"`
		NewPassword string `json:"newPassword"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		message(w, http.StatusBadRequest, "bad request data")
		return
	}
	login, _, _ := r.BasicAuth()
	if !s.st.checkAdmin(login, body.OldPassword) {
		message(w, http.StatusUnauthorized, "Invalid old password")
		return
	}
	if len(body.NewPassword) < 4 {
		message(w, http.StatusBadRequest, "New password is too short")
		return
	}
	if err := s.st.setAdminPassword(body.NewPassword); err != nil {
		message(w, http.StatusInternalServerError, err.Error())
		return
	}
	message(w, http.StatusOK, "User password changed")
}

func (s *server) listDatasources(w http.ResponseWriter, r *http.Request) {
	st := s.st.snapshot()
	out := []map[string]any{}
	for _, d := range st.DataSources {
		out = append(out, datasourceJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func datasourceJSON(d DataSource) map[string]any {
	return map[string]any{"id": d.ID, "uid": d.UID, "orgId": d.OrgID, "name": d.Name, "type": d.Type, "access": d.Access,
		"url": d.URL, "user": d.User, "database": d.Database, "basicAuth": d.BasicAuth, "basicAuthUser": d.BasicAuthUser,
		"withCredentials": d.WithCredentials, "isDefault": d.IsDefault, "jsonData": d.JSONData,
		"secureJsonFields": d.SecureJSONFields, "version": d.Version, "readOnly": d.ReadOnly}
}

func (s *server) getDatasource(by string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue(by)
		for _, d := range s.st.snapshot().DataSources {
			if (by == "uid" && d.UID == key) || (by == "name" && d.Name == key) {
				writeJSON(w, http.StatusOK, datasourceJSON(d))
				return
			}
		}
		message(w, http.StatusNotFound, "Data source not found")
	}
}

func (s *server) listFolders(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	for _, f := range s.st.snapshot().Folders {
		out = append(out, map[string]any{"id": f.ID, "uid": f.UID, "title": f.Title})
	}
	writeJSON(w, http.StatusOK, out)
}

func slug(title string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(title) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// search is GET /api/search: folders and dashboards, filtered by query
// (title substring), type (dash-db, dash-folder), folderUIDs and dashboardUIDs.
func (s *server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := strings.ToLower(q.Get("query"))
	typ := q.Get("type")
	folderUIDs := q["folderUIDs"]
	dashUIDs := q["dashboardUIDs"]
	st := s.st.snapshot()
	titles := map[string]string{}
	for _, f := range st.Folders {
		titles[f.UID] = f.Title
	}
	out := []map[string]any{}
	if typ == "" || typ == "dash-folder" {
		for _, f := range st.Folders {
			if strings.Contains(strings.ToLower(f.Title), query) && len(folderUIDs) == 0 && len(dashUIDs) == 0 {
				out = append(out, map[string]any{"id": f.ID, "uid": f.UID, "title": f.Title, "type": "dash-folder",
					"url": "/dashboards/f/" + f.UID + "/" + slug(f.Title), "tags": []string{}})
			}
		}
	}
	if typ == "" || typ == "dash-db" {
		for _, d := range st.Dashboards {
			if !strings.Contains(strings.ToLower(d.Title), query) ||
				(len(folderUIDs) > 0 && !slices.Contains(folderUIDs, d.FolderUID)) ||
				(len(dashUIDs) > 0 && !slices.Contains(dashUIDs, d.UID)) {
				continue
			}
			tags := []any{}
			if t, ok := d.Model["tags"].([]any); ok {
				tags = t
			}
			out = append(out, map[string]any{"id": d.ID, "uid": d.UID, "title": d.Title, "type": "dash-db", "tags": tags,
				"url": "/d/" + d.UID + "/" + slug(d.Title), "folderUid": d.FolderUID, "folderTitle": titles[d.FolderUID]})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) getDashboard(w http.ResponseWriter, r *http.Request) {
	uid := r.PathValue("uid")
	st := s.st.snapshot()
	for _, d := range st.Dashboards {
		if d.UID != uid {
			continue
		}
		folderTitle := ""
		for _, f := range st.Folders {
			if f.UID == d.FolderUID {
				folderTitle = f.Title
			}
		}
		model := d.Model
		model["id"], model["uid"], model["version"] = d.ID, d.UID, d.Version
		ext := d.File
		for _, pc := range s.prov.providerList() {
			if pc.Name == d.Provider {
				if rel, err := filepath.Rel(pc.Options.Path, d.File); err == nil {
					ext = rel
				}
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"dashboard": model,
			"meta": map[string]any{"type": "db", "slug": slug(d.Title), "url": "/d/" + d.UID + "/" + slug(d.Title),
				"version": d.Version, "canSave": d.AllowUI, "canEdit": true, "provisioned": d.Provider != "",
				"provisionedExternalId": ext, "folderUid": d.FolderUID, "folderTitle": folderTitle},
		})
		return
	}
	message(w, http.StatusNotFound, "Dashboard not found")
}

func (s *server) adminSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.set.redacted())
}

// reload is Grafana's provisioning reload API: Grafana server admins only.
// Every call is recorded (with its status) for GET /standin/reloads.
func (s *server) reload(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		s.need("Admin", func(w http.ResponseWriter, r *http.Request) {
			var err error
			if kind == "dashboards" {
				err = s.prov.provisionDashboards("api", nil)
			} else {
				err = s.prov.provisionDatasources("api")
			}
			if err != nil {
				message(w, http.StatusInternalServerError, err.Error())
				return
			}
			message(w, http.StatusOK, map[string]string{"dashboards": "Dashboards config reloaded", "datasources": "Datasources config reloaded"}[kind])
		})(rec, r)
		s.mu.Lock()
		s.calls = append(s.calls, apiCall{Kind: kind, At: time.Now().UTC(), Status: rec.code})
		s.mu.Unlock()
		logf("info", "standin", "provisioning reload API called", "kind", kind, "status", rec.code)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"standin": "grafana stand-in for tests, not Grafana", "version": s.version,
		"user": name, "uid": os.Getuid(), "gid": os.Getgid(), "pid": os.Getpid(),
		"homepath": s.set.HomePath, "config_file": s.set.ConfigFile, "provisioning": s.set.Provisioning,
		"data": s.set.DataDir, "logs": s.set.LogsDir, "packaging": s.cl.Packaging, "pidfile": s.cl.PidFile,
		"protocol": s.set.Protocol, "http_addr": s.set.HTTPAddr, "http_port": s.set.HTTPPort,
	})
}

func (s *server) reloads(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	calls := slices.Clone(s.calls)
	s.mu.Unlock()
	ok := map[string]int{"dashboards": 0, "datasources": 0}
	for _, c := range calls {
		if c.Status == http.StatusOK {
			ok[c.Kind]++
		}
	}
	if calls == nil {
		calls = []apiCall{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": ok, "calls": calls})
}

func (s *server) provisioningHistory(w http.ResponseWriter, r *http.Request) {
	events := s.prov.history()
	if events == nil {
		events = []event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}
