package dbtest_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/jackc/pgx/v5"
)

// childEnv marks a run of this test binary as a test package that uses dbtest.Run.
const childEnv = "DBTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(dbtest.Run(m))
	}
	os.Exit(m.Run())
}

// TestChildSeesItsDatabase runs only in the child processes of
// TestRunCreatesTheMissingDatabase: dbtest.Run gave it a migrated schema of that database.
func TestChildSeesItsDatabase(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("run by TestRunCreatesTheMissingDatabase")
	}
	var name string
	var migrated bool
	err := dbtest.Pool(t).QueryRow(context.Background(),
		`SELECT current_database(), to_regclass('checkouts') IS NOT NULL`).Scan(&name, &migrated)
	if err != nil {
		t.Fatal(err)
	}
	if want := os.Getenv("DBTEST_WANT_DATABASE"); name != want || !migrated {
		t.Fatalf("current_database() = %q (migrated %v), want %q migrated", name, migrated, want)
	}
}

// A fresh machine has no "test" database: dbtest.Run creates the one TEST_DATABASE_URL names,
// even when several test packages start at once.
func TestRunCreatesTheMissingDatabase(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		t.Skip("parent test")
	}
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	name := dbtest.Unique("dbtest_fresh_")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	fresh := u.String()
	u.Path = "/postgres"
	admin := u.String()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Skipf("no PostgreSQL at %s: %v", admin, err)
	}
	t.Cleanup(func() {
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	// Three test packages at once, as go test ./... starts them.
	const children = 3
	var wg sync.WaitGroup
	outputs := make([]bytes.Buffer, children)
	errs := make([]error, children)
	for i := range children {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildSeesItsDatabase$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), childEnv+"=1", "TEST_DATABASE_URL="+fresh, "DBTEST_WANT_DATABASE="+name)
			cmd.Stdout, cmd.Stderr = &outputs[i], &outputs[i]
			errs[i] = cmd.Run()
		})
	}
	wg.Wait()
	for i, err := range errs {
		t.Logf("child %d:\n%s", i, outputs[i].String())
		if err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outputs[i].String())
		}
		if !bytes.Contains(outputs[i].Bytes(), []byte("--- PASS: TestChildSeesItsDatabase")) {
			t.Fatalf("child %d did not run its test:\n%s", i, outputs[i].String())
		}
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if !exists {
		t.Fatalf("database %s was not created", name)
	}
	// An existing database is used as it is.
	if err := dbtest.CreateDatabase(ctx, fresh); err != nil {
		t.Fatalf("CreateDatabase of an existing database: %v", err)
	}
}
