package lms_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/simulators/lms"
)

// A simulator restarted on the same state file (make run restarted) still knows the
// enrollments, their attributes, creation times and counters, and answers for them.
func TestStateFileKeepsEnrollmentsAcrossRestarts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "run", "lms-state.json") // the directory is created
	first := newSim(t, lms.WithStateFile(path))
	order := lms.Attribute{Namespace: "order", Name: "order_number", Value: "EDX-100042"}
	enroll(t, first, "bob", course, "verified", order)
	enroll(t, first, "bob", course, "verified", order) // a repeat: one more success, no change
	enroll(t, first, "alice", "course-v1:MITx+6.002x+2026_T1", "professional")
	requireStatus(t, serve(t, first, request{body: enrollBody("alice", "course-v1:MITx+6.002x+2026_T1", "professional", false)}), http.StatusOK)
	first.FailNext(1)
	requireStatus(t, serve(t, first, request{body: enrollBody("carol", course, "verified", true)}), http.StatusInternalServerError)

	second := lms.New(apiKey, lms.WithStateFile(path)) // another clock: created times come from the file
	if got, want := second.Enrollments(), first.Enrollments(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a restart:\n got %+v\nwant %+v", got, want)
	}
	bob, ok := second.Enrollment("bob", course)
	if !ok || !bob.IsActive || bob.Mode != "verified" || !bob.Created.Equal(t0) || bob.Changes != 1 {
		t.Fatalf("bob after a restart: %+v (found %v)", bob, ok)
	}
	if v, _ := bob.Attribute("order", "order_number"); v != "EDX-100042" {
		t.Fatalf("order attribute after a restart: %q", v)
	}
	if alice, _ := second.Enrollment("alice", "course-v1:MITx+6.002x+2026_T1"); alice.IsActive {
		t.Fatal("alice's unenrollment was forgotten")
	}
	if got := second.Successes("bob", course); got != 2 {
		t.Fatalf("successes after a restart = %d, want 2", got)
	}
	if got := second.Calls(); got != 4 {
		t.Fatalf("calls after a restart = %d, want 4 (the failed call of carol came after the last save)", got)
	}
	if _, ok := second.Enrollment("carol", course); ok {
		t.Fatal("a failed enrollment was kept")
	}
	rec := serve(t, second, request{method: http.MethodGet, path: lms.EnrollmentPath + "/bob," + course})
	requireStatus(t, rec, http.StatusOK)
	if got := field(t, rec.Body.Bytes(), "created"); got != "2024-03-01T12:00:00.000000Z" {
		t.Fatalf("created = %q", got)
	}

	// What the restarted simulator changes is kept for the next restart; a reset forgets all.
	enroll(t, second, "carol", course, "verified")
	if _, ok := lms.New(apiKey, lms.WithStateFile(path)).Enrollment("carol", course); !ok {
		t.Fatal("an enrollment made after a restart was not saved")
	}
	requireStatus(t, serve(t, second, request{path: lms.ResetPath}), http.StatusNoContent)
	if got := lms.New(apiKey, lms.WithStateFile(path)).Enrollments(); len(got) != 0 {
		t.Fatalf("after a reset and a restart: %+v", got)
	}
	// Knobs are not state.
	second.FailNext(3)
	if k := lms.New(apiKey, lms.WithStateFile(path)).Knobs(); k.FailNext != 0 {
		t.Fatalf("knobs were kept: %+v", k)
	}
}

// A state file that cannot be read is moved aside: the simulator starts empty and saves anew.
func TestStateFileUnreadableIsMovedAside(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lms-state.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := newSim(t, lms.WithStateFile(path))
	if got := sim.Enrollments(); len(got) != 0 {
		t.Fatalf("enrollments from a broken file: %+v", got)
	}
	if b, err := os.ReadFile(path + ".bad"); err != nil || string(b) != "{not json" {
		t.Fatalf("the broken file was not kept aside: %q, %v", b, err)
	}
	enroll(t, sim, "bob", course, "verified")
	if _, ok := lms.New(apiKey, lms.WithStateFile(path)).Enrollment("bob", course); !ok {
		t.Fatal("not saved after a broken file")
	}
}

// Concurrent enrollments are all saved.
func TestStateFileConcurrentEnrollments(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lms-state.json")
	sim := newSim(t, lms.WithStateFile(path))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if rec := serve(t, sim, request{body: enrollBody(fmt.Sprintf("user%02d", i), course, "verified", true)}); rec.Code != http.StatusOK {
				t.Errorf("enroll user%02d: %d %s", i, rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()
	if got := lms.New(apiKey, lms.WithStateFile(path)).Enrollments(); len(got) != 20 {
		t.Fatalf("%d enrollments saved, want 20", len(got))
	}
	if tmps, _ := filepath.Glob(path + ".*.tmp"); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// A change appends one line to the state file, whatever the number of enrollments (a load run
// makes thousands), and a restart compacts a file of mostly superseded lines.
func TestStateFileGrowsByALineAChangeAndIsCompacted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lms-state.json")
	sim := newSim(t, lms.WithStateFile(path))
	lines := func() int {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "\n")
	}
	enroll(t, sim, "bob", course, "verified")
	before := lines()
	for range 300 {
		enroll(t, sim, "bob", course, "verified")
	}
	if got := lines() - before; got != 300 {
		t.Fatalf("300 changes added %d lines, want 300", got)
	}
	restarted := lms.New(apiKey, lms.WithStateFile(path))
	if got := restarted.Successes("bob", course); got != 301 {
		t.Fatalf("successes after a restart = %d, want 301", got)
	}
	if got := lines(); got > 3 {
		t.Fatalf("the restart left %d lines, want the header, the counters and bob", got)
	}
}

// A version 1 state file (one JSON object, before the append-only format) is read and converted;
// a last line cut short by a crash is ignored.
func TestStateFileOldFormatAndCutLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "lms-state.json")
	v1 := `{"version":1,"calls":2,"enrollments":[{"user":"bob","course_id":"` + course + `","mode":"verified","is_active":true,` +
		`"enrollment_attributes":null,"created":"2024-03-01T12:00:00Z","changes":1,"successes":2}]}`
	if err := os.WriteFile(path, []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := lms.New(apiKey, lms.WithStateFile(path))
	if got := sim.Successes("bob", course); got != 2 {
		t.Fatalf("bob's successes from a version 1 file = %d, want 2", got)
	}
	enroll(t, sim, "alice", course, "verified")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"calls":9,"enrollment":{"user":"carol","cou`); err != nil { // a crash mid-line
		t.Fatal(err)
	}
	f.Close()
	again := lms.New(apiKey, lms.WithStateFile(path))
	if _, ok := again.Enrollment("alice", course); !ok {
		t.Fatal("alice, enrolled after the conversion, was forgotten")
	}
	if _, ok := again.Enrollment("carol", course); ok {
		t.Fatal("a half-written line was read")
	}
	if _, err := os.Stat(path + ".bad"); err == nil {
		t.Fatal("a cut last line moved the file aside")
	}
	enroll(t, again, "dave", course, "verified") // appended after the cut line was rewritten away
	last := lms.New(apiKey, lms.WithStateFile(path))
	for _, user := range []string{"bob", "alice", "dave"} {
		if _, ok := last.Enrollment(user, course); !ok {
			t.Fatalf("%s was forgotten after a change following a cut line", user)
		}
	}
}
