// Package cybersource simulates the CyberSource Secure Acceptance hosted
// payment page (https://testsecureacceptance.cybersource.com/pay) and the
// REST API's payment refunds, for development and integration tests,
// speaking the real wire protocol.
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
// The same server speaks the REST API's refunds: POST
// /pts/v2/payments/{id}/refunds with CyberSource's HTTP Signature
// authentication (Config.RESTKeys; a request that is not authentic gets 401
// {"response":{"rmsg":"Authentication Failed"}}). It refunds payments the
// simulator produced (accepted sales, or AddSale): an unknown id is a 404, an
// amount above what is left of the payment a 400 INVALID_AMOUNT, and a
// request repeating an idempotency key
// (clientReferenceInformation.transactionId) for the same payment gets the
// first 201 {id, status: "PENDING"} answer again without refunding twice (or
// 400 DUPLICATE_REQUEST, knob DuplicateRefundError). Refunds and Transactions (or GET
// /__sim/refunds) show what happened.
//
// Knobs steer the next payments (declines, partial authorisations, review,
// errors, tampered signatures, duplicate, delayed or skipped notifications)
// and refunds (5xx answers, refusals, lost answers); they are set from Go
// (SetKnobs, UpdateKnobs, ...) or over HTTP with GET/POST /__sim/knobs. Pay
// drives the same code path from Go.
package cybersource
