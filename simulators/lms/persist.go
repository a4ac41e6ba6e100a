package lms

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// WithStateFile keeps the enrollments in the file at path, so that a restarted simulator
// (ecommerce dev after a `make run` restart) still knows who is enrolled in what: New reads the
// file when it exists, and every change (an enrollment saved, a Reset) is appended to it as one
// line, so that a change costs the same however many enrollments there are (a load run makes
// thousands). New compacts the file when it holds many superseded lines. The enrollment counters
// (successes, calls) are kept too; knobs and login sessions are not. A file that cannot be read is
// logged, moved aside to path+".bad", and the simulator starts empty. By default all state is in
// memory.
func WithStateFile(path string) Option {
	return func(s *Simulator) {
		s.stateFile = path
	}
}

// stateFileVersion is the format of the state file: JSON lines, a header ({"version":2}) and then
// one record a change. Version 1 (one JSON object holding every enrollment) is still read.
const stateFileVersion = 2

// stateFileV1 is the content of a version 1 state file.
type stateFileV1 struct {
	Version     int                `json:"version"`
	Calls       int                `json:"calls"`
	Enrollments []storedEnrollment `json:"enrollments"`
}

// stateHeader is the first line of a version 2 state file.
type stateHeader struct {
	Version int `json:"version"`
}

// stateRecord is one line after the header: the calls counter at the time, and an enrollment as
// it now is, or a reset (every enrollment forgotten).
type stateRecord struct {
	Calls      int               `json:"calls"`
	Enrollment *storedEnrollment `json:"enrollment,omitempty"`
	Reset      bool              `json:"reset,omitempty"`
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

// loadState reads the state file into the empty simulator, if there is one, and compacts it when
// it is of version 1 or mostly superseded lines.
func (s *Simulator) loadState() {
	if s.stateFile == "" {
		return
	}
	b, err := os.ReadFile(s.stateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var records int
	compact := false
	if err == nil {
		var v1 stateFileV1
		if json.Unmarshal(b, &v1) == nil && v1.Version == 1 {
			s.calls = v1.Calls
			for _, e := range v1.Enrollments {
				s.restore(e)
			}
			compact = true
		} else {
			var cut bool
			records, cut, err = s.replay(b)
			// A cut line is rewritten away, or the next change would be appended to it.
			compact = cut || records > 2*len(s.enrollments)+100
		}
	}
	if err != nil {
		s.enrollments, s.successes, s.calls = make(map[enrollmentKey]*Enrollment), make(map[enrollmentKey]int), 0
		bad := s.stateFile + ".bad"
		if rerr := os.Rename(s.stateFile, bad); rerr != nil {
			bad = ""
		}
		s.logger.Error("lms simulator: cannot read the state file; starting without enrollments",
			"path", s.stateFile, "err", err, "moved_to", bad)
		return
	}
	if compact {
		s.compactState()
	}
	s.logger.Info("lms simulator: enrollments loaded", "path", s.stateFile, "enrollments", len(s.enrollments))
}

// replay applies a version 2 file's records and returns how many there were, and whether the
// last line was cut short (a crash while appending: it is ignored); any other bad line is an
// error.
func (s *Simulator) replay(b []byte) (n int, cut bool, err error) {
	lines := bytes.Split(b, []byte("\n"))
	var h stateHeader
	if err := json.Unmarshal(lines[0], &h); err != nil || h.Version != stateFileVersion {
		return 0, false, fmt.Errorf("header %.40q: want version %d", lines[0], stateFileVersion)
	}
	for i, line := range lines[1:] {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r stateRecord
		if err := json.Unmarshal(line, &r); err != nil {
			if i == len(lines)-2 { // the last line, cut short
				s.logger.Warn("lms simulator: the state file's last line is incomplete; ignored", "path", s.stateFile)
				return n, true, nil
			}
			return n, false, fmt.Errorf("line %d: %w", i+2, err)
		}
		n++
		s.calls = r.Calls
		switch {
		case r.Reset:
			s.enrollments, s.successes = make(map[enrollmentKey]*Enrollment), make(map[enrollmentKey]int)
		case r.Enrollment != nil:
			s.restore(*r.Enrollment)
		}
	}
	return n, false, nil
}

// restore puts a stored enrollment into the simulator.
func (s *Simulator) restore(e storedEnrollment) {
	key := enrollmentKey{e.User, e.CourseID}
	s.enrollments[key] = &Enrollment{User: e.User, CourseID: e.CourseID, Mode: e.Mode, IsActive: e.IsActive,
		Attributes: slices.Clone(e.Attributes), Created: e.Created.UTC(), Changes: e.Changes}
	s.successes[key] = e.Successes
}

// stored is the enrollment of key as the state file keeps it.
func (s *Simulator) stored(key enrollmentKey) storedEnrollment {
	e := s.enrollments[key]
	return storedEnrollment{User: e.User, CourseID: e.CourseID, Mode: e.Mode, IsActive: e.IsActive,
		Attributes: e.Attributes, Created: e.Created, Changes: e.Changes, Successes: s.successes[key]}
}

// compactState rewrites the state file with one record an enrollment, atomically.
func (s *Simulator) compactState() {
	keys := slices.Collect(maps.Keys(s.enrollments))
	slices.SortFunc(keys, func(a, b enrollmentKey) int {
		return cmp.Or(cmp.Compare(a.user, b.user), cmp.Compare(a.courseID, b.courseID))
	})
	lines := []any{stateHeader{Version: stateFileVersion}, stateRecord{Calls: s.calls}}
	for _, key := range keys {
		e := s.stored(key)
		lines = append(lines, stateRecord{Calls: s.calls, Enrollment: &e})
	}
	if err := writeLinesAtomically(s.stateFile, lines); err != nil {
		s.logger.Error("lms simulator: cannot compact the state file", "path", s.stateFile, "err", err)
	}
}

// saveEnrollment appends the enrollment of key to the state file, if there is one; a failure is
// logged. Callers hold s.mu.
func (s *Simulator) saveEnrollment(key enrollmentKey) {
	e := s.stored(key)
	s.appendState(stateRecord{Calls: s.calls, Enrollment: &e})
}

// saveReset appends a reset to the state file, if there is one. Callers hold s.mu.
func (s *Simulator) saveReset() {
	s.appendState(stateRecord{Calls: s.calls, Reset: true})
}

// appendState appends one record to the state file (a new file starts with its header).
func (s *Simulator) appendState(r stateRecord) {
	if s.stateFile == "" {
		return
	}
	if err := appendLine(s.stateFile, r); err != nil {
		s.logger.Error("lms simulator: cannot save the state file", "path", s.stateFile, "err", err)
	}
}

// appendLine appends v as one JSON line to path, writing the header first into a new file.
func appendLine(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	var out []byte
	if st, serr := f.Stat(); serr == nil && st.Size() == 0 {
		header, _ := json.Marshal(stateHeader{Version: stateFileVersion})
		out = append(header, '\n')
	}
	out = append(append(out, line...), '\n')
	_, err = f.Write(out)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeLinesAtomically writes each value as a JSON line to a temporary file next to path and
// renames it to path, so a crash leaves the old file or the new one, never half of one.
func writeLinesAtomically(path string, values []any) error {
	var b []byte
	for _, v := range values {
		line, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b = append(append(b, line...), '\n')
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
		_, err = f.Write(b)
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
