package main

// The stand-in's "database": one JSON file in [paths] data, written
// atomically after every change, so datasources, dashboards and the admin
// user survive a restart as they do in Grafana's grafana.db. The admin user is
// created from [security] admin_user/admin_password when the file is created
// and never again: as in Grafana, changing admin_password later does nothing.

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

const stateFile = "grafana-standin.db.json"

type DataSource struct {
	ID               int64           `json:"id"`
	UID              string          `json:"uid"`
	OrgID            int64           `json:"orgId"`
	Name             string          `json:"name"`
	Type             string          `json:"type"`
	Access           string          `json:"access"`
	URL              string          `json:"url"`
	User             string          `json:"user"`
	Database         string          `json:"database"`
	BasicAuth        bool            `json:"basicAuth"`
	BasicAuthUser    string          `json:"basicAuthUser"`
	WithCredentials  bool            `json:"withCredentials"`
	IsDefault        bool            `json:"isDefault"`
	JSONData         map[string]any  `json:"jsonData"`
	SecureJSONFields map[string]bool `json:"secureJsonFields"`
	Version          int             `json:"version"`
	ReadOnly         bool            `json:"readOnly"`
	// Stand-in bookkeeping (Grafana keeps the like in its provisioning tables).
	Provisioned bool `json:"provisioned"`
	Prunable    bool `json:"prunable"`
}

type Folder struct {
	ID    int64  `json:"id"`
	UID   string `json:"uid"`
	OrgID int64  `json:"orgId"`
	Title string `json:"title"`
}

type Dashboard struct {
	ID        int64          `json:"id"`
	UID       string         `json:"uid"`
	OrgID     int64          `json:"orgId"`
	Title     string         `json:"title"`
	FolderUID string         `json:"folderUid"`
	Version   int            `json:"version"`
	Model     map[string]any `json:"model"`
	Provider  string         `json:"provider"`
	File      string         `json:"file"`
	Checksum  string         `json:"checksum"`
	AllowUI   bool           `json:"allowUiUpdates"`
}

type adminUser struct {
	Login string `json:"login"`
	Salt  string `json:"salt"`
	Hash  string `json:"hash"`
}

type state struct {
	Admin       adminUser    `json:"admin"`
	NextID      int64        `json:"nextId"`
	DataSources []DataSource `json:"datasources"`
	Folders     []Folder     `json:"folders"`
	Dashboards  []Dashboard  `json:"dashboards"`
}

type store struct {
	mu   sync.Mutex
	path string
	st   state
}

func hashPassword(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}

// openStore loads the database, or creates it with the admin user from the
// configuration (Grafana does this once, when grafana.db is created).
func openStore(dataDir, adminLogin, adminPassword string) (*store, bool, error) {
	s := &store{path: filepath.Join(dataDir, stateFile)}
	data, err := os.ReadFile(s.path)
	if err == nil {
		if err := json.Unmarshal(data, &s.st); err != nil {
			return nil, false, fmt.Errorf("%s: %w", s.path, err)
		}
		return s, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, false, err
	}
	salt := make([]byte, 8)
	rand.Read(salt)
	s.st = state{NextID: 1, Admin: adminUser{Login: adminLogin, Salt: hex.EncodeToString(salt)}}
	s.st.Admin.Hash = hashPassword(s.st.Admin.Salt, adminPassword)
	return s, true, s.saveLocked()
}

func (s *store) saveLocked() error {
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *store) checkAdmin(login, password string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := hashPassword(s.st.Admin.Salt, password)
	return login == s.st.Admin.Login && subtle.ConstantTimeCompare([]byte(want), []byte(s.st.Admin.Hash)) == 1
}

func (s *store) setAdminPassword(password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Admin.Hash = hashPassword(s.st.Admin.Salt, password)
	return s.saveLocked()
}

func (s *store) nextIDLocked() int64 {
	s.st.NextID++
	return s.st.NextID - 1
}

// snapshot returns copies for the API to serve without holding the lock.
func (s *store) snapshot() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, _ := json.Marshal(s.st)
	var out state
	json.Unmarshal(data, &out)
	return out
}
