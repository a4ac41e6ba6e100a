// Package lms simulates the LMS enrollment API for local development
// (ecommerce dev) and integration tests.
//
// A Simulator is an http.Handler that speaks the LMS wire protocol:
// POST /api/enrollment/v1/enrollment to enroll or unenroll, authenticated by
// the X-Edx-Api-Key header, and GET /api/enrollment/v1/enrollment/{user},{course_id}
// to read an enrollment. Knobs inject failures (FailNext, Latency,
// RejectCourses), through Go methods or the unauthenticated development
// endpoints under /__sim/. Inspection methods let tests see what was enrolled.
// All state is in memory and every method is safe for concurrent use.
//
// The /__sim/ endpoints have no authentication: never expose a Simulator
// beyond a development machine or a test.
package lms
