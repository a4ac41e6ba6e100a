// Package api is the REST edge: a Gin router with edX ecommerce's /api/v2/ paths and field
// names, JWT authentication, request/response DTOs converted explicitly to and from commerce
// types, and one table from domain error codes to HTTP statuses.
package api
