package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/coursecommerce/commerce/db"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openDatabase connects to DATABASE_URL. With create set, a missing database is created
// first. An unreachable server gets a message that says how to start it.
func openDatabase(ctx context.Context, cfg config, logger *slog.Logger, create bool) (*pgxpool.Pool, error) {
	pool, err := db.NewPool(ctx, cfg.DatabaseURL)
	var pgErr *pgconn.PgError
	if create && errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
		if cerr := createDatabase(ctx, cfg.DatabaseURL, logger); cerr != nil {
			return nil, cerr
		}
		pool, err = db.NewPool(ctx, cfg.DatabaseURL)
	}
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL is not reachable at %s: %w\n"+
			"  start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"  or point DATABASE_URL at a running server", maskURLPassword(cfg.DatabaseURL), err)
	}
	return pool, nil
}

func createDatabase(ctx context.Context, databaseURL string, logger *slog.Logger) error {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %q: %w", name, err)
	}
	logger.Info("created database", "name", name)
	return nil
}

func migrate(ctx context.Context, cfg config, logger *slog.Logger) error {
	pool, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := applyMigrations(ctx, pool, logger); err != nil {
		return err
	}
	registerSearchAttributes(ctx, cfg, logger)
	return nil
}

func applyMigrations(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	applied, err := db.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	logger.Info("database migrated", "applied", applied)
	return nil
}
