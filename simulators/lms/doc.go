// Package lms simulates the LMS for local development (ecommerce dev) and
// integration tests.
//
// A Simulator is an http.Handler that speaks the LMS wire protocol:
// POST /api/enrollment/v1/enrollment to enroll or unenroll, authenticated by
// the X-Edx-Api-Key header, and GET /api/enrollment/v1/enrollment/{user},{course_id}
// to read an enrollment. Knobs inject failures (FailNext, Latency,
// RejectCourses), through Go methods or the unauthenticated development
// endpoints under /__sim/. Inspection methods let tests see what was enrolled.
//
// It also serves what edX's payment page asks of the LMS: a development login
// page (GET /login, POST /login, GET /logout) that sets a simulator session and
// the LMS's two JWT cookies, POST /login_refresh (fresh cookies for the
// session's user, 401 without one), the accounts API
// (GET /api/user/v1/accounts/{username}) and the course discount API
// (GET /api/discounts/course/{course_key}, never a discount). WithJWT gives it
// the service's HS256 secret and issuer, so the cookies it sets authenticate at
// the service; WithCORSOrigins lets the payment page's origin call it with
// credentials (preflights are answered before routing).
//
// All state is in memory, unless WithStateFile keeps the enrollments in a file across
// restarts (as ecommerce dev does), and every method is safe for concurrent use.
//
// The /__sim/ endpoints and the login page have no authentication: never
// expose a Simulator beyond a development machine or a test.
package lms
