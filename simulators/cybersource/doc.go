// Package cybersource simulates the CyberSource Secure Acceptance hosted
// payment page (https://testsecureacceptance.cybersource.com/pay) for
// development and integration tests, speaking the real wire protocol.
//
// The merchant's browser posts the signed payment form to POST /pay. The
// simulator checks the access key, profile and HMAC signature, remembers
// (access_key, transaction_uuid) for 15 minutes (a reuse gets decision ERROR,
// reason code 104) and renders a page with a fake card form and three
// buttons: Pay, Decline and Cancel. They post to POST /pay/confirm, which
// builds a signed reply echoing every request field as req_<name>, sends it
// server to server to the merchant POST URL (Config.NotifyURL) and answers
// the browser with a form that submits itself to the merchant's receipt page
// (or cancel page).
//
// Knobs steer the next payments (declines, partial authorisations, review,
// errors, tampered signatures, duplicate, delayed or skipped notifications);
// they are set from Go (SetKnobs, UpdateKnobs, ...) or over HTTP with
// GET/POST /__sim/knobs. Pay drives the same code path from Go.
package cybersource
