// Package paypal simulates the PayPal REST API (OAuth2 token, Orders v2, capture refunds) and
// PayPal's buyer approval page, for development and integration tests, speaking the real wire
// protocol.
//
// POST /v1/oauth2/token checks the client id and secret (HTTP Basic) and issues bearer tokens
// that every /v2 call must carry. POST /v2/checkout/orders validates the order (intent
// CAPTURE, amounts as strings with the currency's decimals, item total and amount breakdown
// that add up, return and cancel URLs) and answers 201 with an approval link to
// /checkoutnow?token=<order id>. That page (GET, or the empty-form POST the payment page
// sends) shows the order with Approve and Cancel buttons: Approve sends the browser to the
// return URL with token=<order id>&PayerID=<payer id>, Cancel to the cancel URL with
// token=<order id>. GET /v2/checkout/orders/{id} reads an order, POST
// /v2/checkout/orders/{id}/capture captures an approved one, and POST
// /v2/payments/captures/{id}/refund refunds a capture. Create, capture and refund honour
// PayPal-Request-Id: the same id gets the first answer again, and changes nothing.
//
// Knobs steer what happens next (a declined instrument, a DECLINED or PENDING capture, an
// order captured twice, a capture whose answer is lost or whose connection is dropped, a
// refused refund, a refund whose answer is lost, 5xx answers, latency); they are set from Go (SetKnobs, UpdateKnobs, SetDeclineNext, ...) or
// over HTTP with GET/POST /__sim/knobs. POST /__sim/approve?token=<order id> approves an
// order without a browser. Orders, Captures, Refunds and Calls show what happened.
package paypal
