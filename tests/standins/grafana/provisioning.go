package main

// File provisioning as the "Provision Grafana" page of the Grafana
// documentation describes it:
//
//   - <provisioning>/datasources/*.yaml|*.yml: apiVersion, datasources,
//     deleteDatasources (by name and orgId, applied first) and prune (v11.1+:
//     provisioned datasources no longer in any file are deleted). A
//     datasource removed from the files without either stays in the database,
//     as in Grafana. An invalid file (YAML, a datasource without name or type,
//     two defaults in one organisation, an over-long uid) fails the whole run:
//     Grafana refuses to start, and the reload API answers 500.
//   - <provisioning>/dashboards/*.yaml|*.yml: providers of type file. Every
//     *.json below options.path is a dashboard; a file that is not valid JSON,
//     has no title or reuses another file's uid is refused and logged (Grafana
//     logs and goes on). A dashboard whose file is gone is deleted unless the
//     provider has disableDeletion; dashboards of a provider that is no longer
//     configured are deleted. Each provider rescans its path every
//     updateIntervalSeconds (default 10), as Grafana polls.
//
// $VAR and ${VAR} are replaced in provisioning files ($$ is a literal $).
// Every run is recorded for GET /standin/provisioning.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

type dsConfig struct {
	OrgID           int64             `yaml:"orgId"`
	Name            string            `yaml:"name"`
	Type            string            `yaml:"type"`
	Access          string            `yaml:"access"`
	UID             string            `yaml:"uid"`
	URL             string            `yaml:"url"`
	User            string            `yaml:"user"`
	Database        string            `yaml:"database"`
	BasicAuth       bool              `yaml:"basicAuth"`
	BasicAuthUser   string            `yaml:"basicAuthUser"`
	WithCredentials bool              `yaml:"withCredentials"`
	IsDefault       bool              `yaml:"isDefault"`
	JSONData        map[string]any    `yaml:"jsonData"`
	SecureJSONData  map[string]string `yaml:"secureJsonData"`
	Version         int               `yaml:"version"`
	Editable        bool              `yaml:"editable"`
}

type dsDelete struct {
	OrgID int64  `yaml:"orgId"`
	Name  string `yaml:"name"`
	UID   string `yaml:"uid"`
}

type dsFile struct {
	APIVersion        int        `yaml:"apiVersion"`
	Datasources       []dsConfig `yaml:"datasources"`
	DeleteDatasources []dsDelete `yaml:"deleteDatasources"`
	Prune             bool       `yaml:"prune"`
}

type providerConfig struct {
	Name                  string `yaml:"name"`
	OrgID                 int64  `yaml:"orgId"`
	Folder                string `yaml:"folder"`
	FolderUID             string `yaml:"folderUid"`
	Type                  string `yaml:"type"`
	DisableDeletion       bool   `yaml:"disableDeletion"`
	UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
	AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
	Options               struct {
		Path                      string `yaml:"path"`
		FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
	} `yaml:"options"`
}

type dashboardsFile struct {
	APIVersion int              `yaml:"apiVersion"`
	Providers  []providerConfig `yaml:"providers"`
}

// refusal is a dashboard file the stand-in did not load, and why.
type refusal struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// event is one provisioning run.
type event struct {
	Kind    string    `json:"kind"`    // datasources or dashboards
	Trigger string    `json:"trigger"` // startup, api or poll
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Added   []string  `json:"added"`   // datasource names, dashboard uids
	Updated []string  `json:"updated"` // idem
	Deleted []string  `json:"deleted"` // idem
	Refused []refusal `json:"refused"` // dashboard files not loaded
}

type provisioner struct {
	dir string
	st  *store

	mu        sync.Mutex // one provisioning run at a time
	providers []providerConfig
	stopPoll  context.CancelFunc

	evMu   sync.Mutex
	events []event
}

var uidPattern = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)

// interpolate applies Grafana's $VAR / ${VAR} replacement ($$ is a literal $).
func interpolate(data []byte) []byte {
	const marker = "\x00dollar\x00"
	s := strings.ReplaceAll(string(data), "$$", marker)
	s = os.Expand(s, os.Getenv)
	return []byte(strings.ReplaceAll(s, marker, "$"))
}

// configFiles lists *.yaml and *.yml in dir, sorted; a missing dir is empty.
func configFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// decodeYAML reads one provisioning file into out. Keys Grafana does not know
// are ignored by Grafana; the stand-in logs them. An empty file (the
// packages' commented-out samples) decodes to nothing.
func decodeYAML(path string, out any) (empty bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	data = interpolate(data)
	var probe yaml.Node
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if len(probe.Content) == 0 {
		return true, nil
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(out); err != nil {
		logf("warn", "provisioning", "unknown keys in provisioning file (Grafana ignores them)", "file", path, "error", err)
		if err := yaml.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	}
	return false, nil
}

func (p *provisioner) record(e event) {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	p.events = append(p.events, e)
}

func (p *provisioner) providerList() []providerConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.providers)
}

func (p *provisioner) history() []event {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	return slices.Clone(p.events)
}

// ---------------------------------------------------------------------------
// Datasources
// ---------------------------------------------------------------------------

func (p *provisioner) readDatasourceFiles() ([]dsFile, error) {
	paths, err := configFiles(filepath.Join(p.dir, "datasources"))
	if err != nil {
		return nil, err
	}
	var files []dsFile
	defaults := map[int64]string{}
	for _, path := range paths {
		var f dsFile
		empty, err := decodeYAML(path, &f)
		if err != nil {
			return nil, err
		}
		if empty {
			continue
		}
		if f.APIVersion > 1 {
			return nil, fmt.Errorf("%s: unsupported apiVersion %d", path, f.APIVersion)
		}
		for i := range f.Datasources {
			ds := &f.Datasources[i]
			if ds.OrgID == 0 {
				ds.OrgID = 1
			}
			if ds.Access == "" {
				ds.Access = "proxy"
			}
			if ds.Name == "" {
				return nil, fmt.Errorf("%s: datasource %d has no name", path, i)
			}
			if ds.Type == "" {
				return nil, fmt.Errorf("%s: datasource %q has no type", path, ds.Name)
			}
			if ds.UID != "" && (len(ds.UID) > 40 || !uidPattern.MatchString(ds.UID)) {
				return nil, fmt.Errorf("%s: datasource %q: uid %q is longer than 40 characters or has characters other than a-z, A-Z, 0-9, - and _", path, ds.Name, ds.UID)
			}
			if ds.IsDefault {
				if other, ok := defaults[ds.OrgID]; ok {
					return nil, fmt.Errorf("datasource.yaml config is invalid. Only one datasource per organization can be marked as default (%q and %q in org %d)", other, ds.Name, ds.OrgID)
				}
				defaults[ds.OrgID] = ds.Name
			}
		}
		for i := range f.DeleteDatasources {
			if f.DeleteDatasources[i].OrgID == 0 {
				f.DeleteDatasources[i].OrgID = 1
			}
		}
		files = append(files, f)
	}
	return files, nil
}

// provisionDatasources applies every datasource file; nothing is changed when
// a file is invalid.
func (p *provisioner) provisionDatasources(trigger string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := event{Kind: "datasources", Trigger: trigger, At: time.Now().UTC(), Added: []string{}, Updated: []string{}, Deleted: []string{}, Refused: []refusal{}}
	err := p.applyDatasources(&ev)
	ev.OK = err == nil
	if err != nil {
		ev.Error = err.Error()
		logf("error", "provisioning.datasources", "Failed to provision data sources", "error", err)
	} else {
		logf("info", "provisioning.datasources", "datasources provisioned", "trigger", trigger,
			"added", len(ev.Added), "updated", len(ev.Updated), "deleted", len(ev.Deleted))
	}
	p.record(ev)
	return err
}

func (p *provisioner) applyDatasources(ev *event) error {
	files, err := p.readDatasourceFiles()
	if err != nil {
		return err
	}
	s := p.st
	s.mu.Lock()
	defer s.mu.Unlock()
	before, _ := json.Marshal(s.st.DataSources)
	remove := func(match func(DataSource) bool) {
		s.st.DataSources = slices.DeleteFunc(s.st.DataSources, func(d DataSource) bool {
			if match(d) {
				ev.Deleted = append(ev.Deleted, d.Name)
				return true
			}
			return false
		})
	}
	for _, f := range files { // deletions come first
		for _, del := range f.DeleteDatasources {
			remove(func(d DataSource) bool {
				return d.OrgID == del.OrgID && ((del.Name != "" && d.Name == del.Name) || (del.UID != "" && d.UID == del.UID))
			})
		}
	}
	inFiles := map[string]bool{}
	for _, f := range files {
		for _, c := range f.Datasources {
			inFiles[fmt.Sprintf("%d/%s", c.OrgID, c.Name)] = true
			idx := slices.IndexFunc(s.st.DataSources, func(d DataSource) bool { return d.OrgID == c.OrgID && d.Name == c.Name })
			if c.UID != "" {
				if clash := slices.IndexFunc(s.st.DataSources, func(d DataSource) bool {
					return d.OrgID == c.OrgID && d.UID == c.UID && d.Name != c.Name
				}); clash >= 0 {
					return fmt.Errorf("datasource %q: uid %q is already used by datasource %q", c.Name, c.UID, s.st.DataSources[clash].Name)
				}
			}
			secure := map[string]bool{}
			for k := range c.SecureJSONData {
				secure[k] = true
			}
			ds := DataSource{OrgID: c.OrgID, Name: c.Name, Type: c.Type, Access: c.Access, UID: c.UID, URL: c.URL,
				User: c.User, Database: c.Database, BasicAuth: c.BasicAuth, BasicAuthUser: c.BasicAuthUser,
				WithCredentials: c.WithCredentials, IsDefault: c.IsDefault, JSONData: c.JSONData, SecureJSONFields: secure,
				ReadOnly: !c.Editable, Provisioned: true, Prunable: f.Prune}
			if ds.JSONData == nil {
				ds.JSONData = map[string]any{}
			}
			if idx < 0 {
				ds.ID = s.nextIDLocked()
				ds.Version = 1
				if ds.UID == "" {
					ds.UID = fmt.Sprintf("P%015x", ds.ID)
				}
				s.st.DataSources = append(s.st.DataSources, ds)
				ev.Added = append(ev.Added, ds.Name)
				continue
			}
			old := s.st.DataSources[idx]
			ds.ID, ds.Version = old.ID, old.Version
			if ds.UID == "" {
				ds.UID = old.UID
			}
			a, _ := json.Marshal(old)
			b, _ := json.Marshal(ds)
			if !bytes.Equal(a, b) {
				ds.Version++
				s.st.DataSources[idx] = ds
				ev.Updated = append(ev.Updated, ds.Name)
			}
		}
	}
	remove(func(d DataSource) bool { return d.Prunable && !inFiles[fmt.Sprintf("%d/%s", d.OrgID, d.Name)] })
	after, _ := json.Marshal(s.st.DataSources)
	if bytes.Equal(before, after) {
		return nil
	}
	return s.saveLocked()
}

// ---------------------------------------------------------------------------
// Dashboards
// ---------------------------------------------------------------------------

func (p *provisioner) readProviders() ([]providerConfig, error) {
	paths, err := configFiles(filepath.Join(p.dir, "dashboards"))
	if err != nil {
		return nil, err
	}
	var out []providerConfig
	names := map[string]bool{}
	for _, path := range paths {
		var f dashboardsFile
		empty, err := decodeYAML(path, &f)
		if err != nil {
			return nil, err
		}
		if empty {
			continue
		}
		for _, pc := range f.Providers {
			if pc.Name == "" {
				return nil, fmt.Errorf("%s: a dashboard provider has no name", path)
			}
			if names[pc.Name] {
				return nil, fmt.Errorf("%s: dashboard provider name %q is not unique", path, pc.Name)
			}
			names[pc.Name] = true
			if pc.Type == "" {
				pc.Type = "file"
			}
			if pc.Type != "file" {
				return nil, fmt.Errorf("%s: provider %q: type %q is not supported by the stand-in (file only)", path, pc.Name, pc.Type)
			}
			if pc.Options.Path == "" {
				return nil, fmt.Errorf("%s: provider %q: options.path is required", path, pc.Name)
			}
			if pc.OrgID == 0 {
				pc.OrgID = 1
			}
			if pc.UpdateIntervalSeconds == 0 {
				pc.UpdateIntervalSeconds = 10
			}
			if pc.FolderUID != "" && (len(pc.FolderUID) > 40 || !uidPattern.MatchString(pc.FolderUID)) {
				return nil, fmt.Errorf("%s: provider %q: folderUid %q is invalid", path, pc.Name, pc.FolderUID)
			}
			out = append(out, pc)
		}
	}
	return out, nil
}

// provisionDashboards re-reads the provider configs (startup and reload API)
// and scans every provider; with only set, it scans that provider (a poll).
func (p *provisioner) provisionDashboards(trigger string, only *providerConfig) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := event{Kind: "dashboards", Trigger: trigger, At: time.Now().UTC(), Added: []string{}, Updated: []string{}, Deleted: []string{}, Refused: []refusal{}}
	var err error
	if only == nil {
		var providers []providerConfig
		if providers, err = p.readProviders(); err == nil {
			p.providers = providers
			p.restartPollers()
			err = p.scan(&ev, p.providers, true)
		}
	} else {
		err = p.scan(&ev, []providerConfig{*only}, false)
	}
	ev.OK = err == nil
	if err != nil {
		ev.Error = err.Error()
		logf("error", "provisioning.dashboard", "Failed to provision dashboards", "error", err)
	}
	for _, r := range ev.Refused {
		logf("error", "provisioning.dashboard", "failed to load dashboard from file", "file", r.File, "error", r.Reason)
	}
	if trigger != "poll" || len(ev.Added)+len(ev.Updated)+len(ev.Deleted) > 0 || err != nil {
		logf("info", "provisioning.dashboard", "dashboards provisioned", "trigger", trigger,
			"added", len(ev.Added), "updated", len(ev.Updated), "deleted", len(ev.Deleted), "refused", len(ev.Refused))
		p.record(ev)
	}
	return err
}

// restartPollers starts one poller per provider (called with p.mu held).
func (p *provisioner) restartPollers() {
	if p.stopPoll != nil {
		p.stopPoll()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stopPoll = cancel
	for _, pc := range p.providers {
		go func() {
			t := time.NewTicker(time.Duration(pc.UpdateIntervalSeconds) * time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					p.provisionDashboards("poll", &pc)
				}
			}
		}()
	}
}

func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// folderFor returns the uid of the folder a provider (or a file's directory)
// puts its dashboards in, creating it when missing ("" is the root).
func (s *store) folderForLocked(orgID int64, title, uid string) string {
	if title == "" {
		return ""
	}
	for _, f := range s.st.Folders {
		if f.OrgID == orgID && ((uid != "" && f.UID == uid) || (uid == "" && f.Title == title)) {
			return f.UID
		}
	}
	if uid == "" {
		uid = "f" + checksum([]byte(fmt.Sprintf("%d/%s", orgID, title)))[:13]
	}
	s.st.Folders = append(s.st.Folders, Folder{ID: s.nextIDLocked(), UID: uid, OrgID: orgID, Title: title})
	return uid
}

type scanned struct {
	uid, title, file, sum, folderTitle string
	model                              map[string]any
}

func (p *provisioner) scan(ev *event, providers []providerConfig, full bool) error {
	// Read every provider's files first (outside the store lock).
	found := map[string][]scanned{}
	seen := map[string]string{} // uid -> file
	for _, pc := range providers {
		var files []string
		err := filepath.WalkDir(pc.Options.Path, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				logf("warn", "provisioning.dashboard", "dashboard path does not exist", "provider", pc.Name, "path", pc.Options.Path)
				continue
			}
			return fmt.Errorf("provider %q: %w", pc.Name, err) // unreadable: permissions
		}
		sort.Strings(files)
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				ev.Refused = append(ev.Refused, refusal{path, err.Error()})
				continue
			}
			var model map[string]any
			if err := json.Unmarshal(data, &model); err != nil {
				ev.Refused = append(ev.Refused, refusal{path, "invalid JSON: " + err.Error()})
				continue
			}
			title, _ := model["title"].(string)
			if strings.TrimSpace(title) == "" {
				ev.Refused = append(ev.Refused, refusal{path, "Dashboard title cannot be empty"})
				continue
			}
			rel, _ := filepath.Rel(pc.Options.Path, path)
			uid, _ := model["uid"].(string)
			if uid == "" {
				uid = "s" + checksum([]byte(pc.Name + "/" + rel))[:13]
			}
			if len(uid) > 40 || !uidPattern.MatchString(uid) {
				ev.Refused = append(ev.Refused, refusal{path, fmt.Sprintf("uid %q is longer than 40 characters or has invalid characters", uid)})
				continue
			}
			if other, dup := seen[uid]; dup {
				ev.Refused = append(ev.Refused, refusal{path, fmt.Sprintf("the same UID is used more than once (%s)", other)})
				continue
			}
			seen[uid] = path
			folderTitle := pc.Folder
			if pc.Options.FoldersFromFilesStructure && filepath.Dir(rel) != "." {
				folderTitle = filepath.Base(filepath.Dir(rel))
			}
			found[pc.Name] = append(found[pc.Name], scanned{uid, title, path, checksum(data), folderTitle, model})
		}
	}

	s := p.st
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	configured := map[string]providerConfig{}
	for _, pc := range p.providers {
		configured[pc.Name] = pc
	}
	for _, pc := range providers {
		for _, sc := range found[pc.Name] {
			folderUID := pc.FolderUID
			if sc.folderTitle != pc.Folder {
				folderUID = ""
			}
			folderUID = s.folderForLocked(pc.OrgID, sc.folderTitle, folderUID)
			idx := slices.IndexFunc(s.st.Dashboards, func(d Dashboard) bool { return d.OrgID == pc.OrgID && d.UID == sc.uid })
			if idx >= 0 {
				d := &s.st.Dashboards[idx]
				if d.Checksum == sc.sum && d.FolderUID == folderUID && d.Provider == pc.Name && d.File == sc.file && d.AllowUI == pc.AllowUIUpdates {
					continue
				}
				d.Title, d.FolderUID, d.Provider, d.File, d.Checksum, d.AllowUI = sc.title, folderUID, pc.Name, sc.file, sc.sum, pc.AllowUIUpdates
				d.Version++
				d.Model = sc.model
				ev.Updated = append(ev.Updated, sc.uid)
				changed = true
				continue
			}
			s.st.Dashboards = append(s.st.Dashboards, Dashboard{ID: s.nextIDLocked(), UID: sc.uid, OrgID: pc.OrgID, Title: sc.title,
				FolderUID: folderUID, Version: 1, Model: sc.model, Provider: pc.Name, File: sc.file, Checksum: sc.sum, AllowUI: pc.AllowUIUpdates})
			ev.Added = append(ev.Added, sc.uid)
			changed = true
		}
		// A dashboard that no file provides any more goes, unless the provider
		// keeps them (disableDeletion). One whose file is there but was
		// refused keeps its last good version, as in Grafana.
		keep := map[string]bool{}
		for _, sc := range found[pc.Name] {
			keep[sc.uid] = true
		}
		refused := map[string]bool{}
		for _, r := range ev.Refused {
			refused[r.File] = true
		}
		s.st.Dashboards = slices.DeleteFunc(s.st.Dashboards, func(d Dashboard) bool {
			if d.Provider != pc.Name || keep[d.UID] || refused[d.File] || pc.DisableDeletion {
				return false
			}
			ev.Deleted = append(ev.Deleted, d.UID)
			changed = true
			return true
		})
	}
	if full { // dashboards of providers that are no longer configured
		s.st.Dashboards = slices.DeleteFunc(s.st.Dashboards, func(d Dashboard) bool {
			if _, ok := configured[d.Provider]; d.Provider == "" || ok {
				return false
			}
			ev.Deleted = append(ev.Deleted, d.UID)
			changed = true
			return true
		})
	}
	if !changed {
		return nil
	}
	return s.saveLocked()
}
