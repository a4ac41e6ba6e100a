// Package e2e holds the end-to-end tests of checkout: the HTTP API, a real Temporal dev server
// (TEMPORAL_ADDRESS), the real PostgreSQL (TEST_DATABASE_URL), the Temporal worker (in process,
// or as a separate `ecommerce worker` process that a test kills), and the LMS and CyberSource
// simulators. `make test` starts the Temporal dev server first.
package e2e
