// Package db is the store: a pgx pool with numeric <-> decimal.Decimal registered, the
// embedded migrations, one transaction helper, one error translator, and methods that speak
// in commerce types. sqlc's generated code lives under db/internal and never leaves it.
package db
