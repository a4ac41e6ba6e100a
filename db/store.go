package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes the service's business state in PostgreSQL.
type Store struct {
	pool  *pgxpool.Pool
	q     *dbgen.Queries
	now   func() time.Time
	cache *cache
}

// NewStore returns a store over pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: dbgen.New(), now: time.Now, cache: newCache()}
}

// Pool returns the underlying pool (for health checks and shutdown).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return interpretError(err)
	}
	return nil
}

// withTx runs fn in a transaction, committing when it returns nil and rolling back otherwise.
// The rollback uses a context that a cancelled request cannot cut short. A transaction that
// PostgreSQL aborts as a deadlock or serialization failure is run again (fn must be repeatable).
func (s *Store) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.tryTx(ctx, fn); !retryableTx(err) {
			return err
		}
	}
	return err
}

// retryableTx reports whether a transaction failed as a deadlock or a serialization failure.
func retryableTx(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return interpretError(fmt.Errorf("begin transaction: %w", err))
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return interpretError(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}

// interpretError translates driver errors into domain errors, once, keeping the cause wrapped.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	var domainErr *commerce.Error
	if errors.As(err, &domainErr) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w (%v)", commerce.ErrNotFound, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s (%v)", commerce.ErrConflict, pgErr.ConstraintName, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s (%v)", commerce.ErrInvalidReference, pgErr.ConstraintName, err)
		case "40P01", "40001": // deadlock, serialization failure: withTx retries it (so keep the cause)
			return fmt.Errorf("%w: %s (%w)", commerce.ErrConflict, pgErr.Code, err)
		case "23514", "22003", "22021", "22P05", "2201X":
			// check violation, numeric out of range, NUL or invalid UTF-8 in text, bad offset:
			// input the API let through
			return fmt.Errorf("%w: %s (%v)", commerce.ErrInvalidInput, pgErr.ConstraintName, err)
		case "57P01", "57P02", "57P03", "53300": // shutdown, crash, cannot connect now, too many connections
			return fmt.Errorf("%w (%v)", commerce.ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) { // a connection dropped mid-query
		return fmt.Errorf("%w (%v)", commerce.ErrUnavailable, err)
	}
	return err
}
