// Package dbtest gives test packages a real PostgreSQL: one fresh schema per test binary,
// migrated with the same embedded migrations as production and dropped when the tests end.
// The server comes from TEST_DATABASE_URL (default: the local server's "test" database); the
// database it names is created when it is missing.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the database tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	schemaURL string
	pool      *pgxpool.Pool
)

// Run creates and migrates the package's schema, runs the tests and drops the schema. Call it
// from TestMain: `func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }`.
func Run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	schema := "test_" + randomHex(6)
	admin, err := db.NewPool(ctx, base)
	if isMissingDatabase(err) {
		if err = CreateDatabase(ctx, base); err == nil {
			admin, err = db.NewPool(ctx, base)
		}
	}
	if err != nil {
		cancel()
		fmt.Fprintf(os.Stderr, "dbtest: cannot reach PostgreSQL at %s: %v\n", base, err)
		return 1
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		cancel()
		fmt.Fprintf(os.Stderr, "dbtest: create schema: %v\n", err)
		return 1
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		if _, err := admin.Exec(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "dbtest: drop schema %s: %v\n", schema, err)
		}
	}()
	schemaURL, err = WithSearchPath(base, schema)
	if err == nil {
		pool, err = db.NewPool(ctx, schemaURL)
	}
	if err == nil {
		_, err = db.Migrate(ctx, pool)
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: prepare schema %s: %v\n", schema, err)
		return 1
	}
	code := m.Run()
	pool.Close()
	return code
}

// isMissingDatabase reports whether err says the database does not exist.
func isMissingDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000" // invalid_catalog_name
}

// CreateDatabase creates the database databaseURL names, connecting to the "postgres" database
// of the same server. A database that exists already (another test package may create it at the
// same moment) is not an error.
func CreateDatabase(ctx context.Context, databaseURL string) error {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || name == "postgres" {
		return fmt.Errorf("create database: %q names no database to create", databaseURL)
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to the postgres database to create %q: %w", name, err)
	}
	defer conn.Close(ctx)
	for attempt := 1; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			fmt.Fprintf(os.Stderr, "dbtest: created database %q\n", name)
			return nil
		case errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505"):
			// duplicate_database, or the unique index of pg_database when both creations ran
			// at once: another test package created it.
			return nil
		case errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 20 && ctx.Err() == nil:
			// object_in_use: the template database is busy with another creation.
			time.Sleep(100 * time.Millisecond)
		default:
			return fmt.Errorf("create database %q: %w", name, err)
		}
	}
}

// Pool returns the pool on the package's schema. Run must have been called by TestMain.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if pool == nil {
		t.Fatal("dbtest: call dbtest.Run from TestMain")
	}
	return pool
}

// URL returns the database URL of the package's schema, for code that opens its own pool.
func URL(t testing.TB) string {
	t.Helper()
	if schemaURL == "" {
		t.Fatal("dbtest: call dbtest.Run from TestMain")
	}
	return schemaURL
}

// Store returns a store on the package's schema.
func Store(t testing.TB) *db.Store {
	t.Helper()
	return db.NewStore(Pool(t))
}

// WithSearchPath returns databaseURL with its search_path set to schema.
func WithSearchPath(databaseURL, schema string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Unique returns prefix followed by random hex, for names that must not clash between tests.
func Unique(prefix string) string {
	return prefix + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// ExtraSchema creates another migrated schema (another deployment, with its own identity) for
// the test and returns its URL; the schema is dropped when the test ends.
func ExtraSchema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	schema := "test_" + randomHex(6)
	if _, err := Pool(t).Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("dbtest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := Pool(t).Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dbtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.NewPool(ctx, u)
	if err != nil {
		t.Fatalf("dbtest: open schema %s: %v", schema, err)
	}
	defer p.Close()
	if _, err := db.Migrate(ctx, p); err != nil {
		t.Fatalf("dbtest: migrate schema %s: %v", schema, err)
	}
	return u
}
