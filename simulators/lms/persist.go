package lms

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// WithStateFile keeps the enrollments in the JSON file at path, so that a restarted simulator
// (ecommerce dev after a `make run` restart) still knows who is enrolled in what: New reads the
// file when it exists, and every change (an enrollment saved, a Reset) rewrites it atomically.
// The enrollment counters (successes, calls) are kept too; knobs and login sessions are not.
// A file that cannot be read is logged, moved aside to path+".bad", and the simulator starts
// empty. By default all state is in memory.
func WithStateFile(path string) Option {
	return func(s *Simulator) {
		s.stateFile = path
	}
}

// stateFileVersion is the format of the state file.
const stateFileVersion = 1

// stateFileJSON is the content of the state file.
type stateFileJSON struct {
	Version     int                `json:"version"`
	Calls       int                `json:"calls"`
	Enrollments []storedEnrollment `json:"enrollments"`
}

// storedEnrollment is one enrollment in the state file, with its success count.
type storedEnrollment struct {
	User       string      `json:"user"`
	CourseID   string      `json:"course_id"`
	Mode       string      `json:"mode"`
	IsActive   bool        `json:"is_active"`
	Attributes []Attribute `json:"enrollment_attributes"`
	Created    time.Time   `json:"created"`
	Changes    int         `json:"changes"`
	Successes  int         `json:"successes"`
}

// loadState reads the state file into the empty simulator, if there is one.
func (s *Simulator) loadState() {
	if s.stateFile == "" {
		return
	}
	b, err := os.ReadFile(s.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var st stateFileJSON
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err == nil && st.Version != stateFileVersion {
		err = fmt.Errorf("version %d, want %d", st.Version, stateFileVersion)
	}
	if err != nil {
		bad := s.stateFile + ".bad"
		if rerr := os.Rename(s.stateFile, bad); rerr != nil {
			bad = ""
		}
		s.logger.Error("lms simulator: cannot read the state file; starting without enrollments",
			"path", s.stateFile, "err", err, "moved_to", bad)
		return
	}
	s.calls = st.Calls
	for _, e := range st.Enrollments {
		key := enrollmentKey{e.User, e.CourseID}
		s.enrollments[key] = &Enrollment{User: e.User, CourseID: e.CourseID, Mode: e.Mode, IsActive: e.IsActive,
			Attributes: slices.Clone(e.Attributes), Created: e.Created.UTC(), Changes: e.Changes}
		s.successes[key] = e.Successes
	}
	s.logger.Info("lms simulator: enrollments loaded", "path", s.stateFile, "enrollments", len(st.Enrollments))
}

// saveState rewrites the state file, if there is one; a failure is logged. Callers hold s.mu.
func (s *Simulator) saveState() {
	if s.stateFile == "" {
		return
	}
	st := stateFileJSON{Version: stateFileVersion, Calls: s.calls, Enrollments: make([]storedEnrollment, 0, len(s.enrollments))}
	for key, e := range s.enrollments {
		st.Enrollments = append(st.Enrollments, storedEnrollment{User: e.User, CourseID: e.CourseID, Mode: e.Mode,
			IsActive: e.IsActive, Attributes: e.Attributes, Created: e.Created, Changes: e.Changes, Successes: s.successes[key]})
	}
	slices.SortFunc(st.Enrollments, func(a, b storedEnrollment) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.CourseID, b.CourseID))
	})
	if err := writeFileAtomically(s.stateFile, st); err != nil {
		s.logger.Error("lms simulator: cannot save the state file", "path", s.stateFile, "err", err)
	}
}

// writeFileAtomically writes v as JSON to a temporary file next to path and renames it to path,
// so a crash leaves the old file or the new one, never half of one.
func writeFileAtomically(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
