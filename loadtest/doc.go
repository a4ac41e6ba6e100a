// Package loadtest drives the running service the way many learners at once would, and measures
// what a purchase costs: `ecommerce load` (cmd/ecommerce/load.go) is its command line.
//
// A purchase is the whole journey of one learner (a fresh username, so every learner may buy
// the seat): basket, optional voucher, checkout, the CyberSource simulator's hosted page and its
// Pay button (whose server-to-server notification reaches the API before the page answers), the
// browser's signed reply to /payment/cybersource/redirect/, then waiting until the order is
// placed (GET /api/v2/orders/{number}/) and the learner is enrolled in the LMS simulator (GET
// /api/enrollment/v1/enrollment/{user},{course}).
//
// The bare workflow (bare.go) is the same shape with no business in it: start, one signal, a
// local activity and three no-op activities on its own task queue, served by a worker inside the
// load process. Run beside the purchases on the same Temporal server and at the same
// concurrency, it turns every figure into a ratio that does not depend on the machine.
//
// CPU per purchase is read from /proc/<pid>/stat (utime+stime) before and after each phase, for
// the processes found by the port they listen on or by name (cpu.go).
package loadtest
