// Package lms is the client for the LMS enrollment API, which fulfils seat
// purchases by enrolling learners in course runs and revokes them on refund.
//
// Both operations POST to {base}/api/enrollment/v1/enrollment with the shared
// API key in the X-Edx-Api-Key header. The client makes one attempt per call and
// never retries: failures come back as *Error, whose Kind says whether another
// attempt can help (Retryable) and which edX line status the failure maps to
// (Kind.LineStatus). Retrying is the caller's job, such as a Temporal activity's
// retry policy.
package lms
