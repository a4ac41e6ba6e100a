// Package paypal is the merchant side of PayPal Checkout on the Orders v2 REST API.
//
// Client speaks the API: it gets an OAuth2 access token with the client credentials grant
// (POST /v1/oauth2/token, Basic auth), caches it until shortly before it expires and fetches a
// new one when PayPal refuses it, and creates, reads and captures orders and refunds captures.
// Every API request and its answer (or the lack of one) is handed to Config.Record as an
// Exchange, so that the service can store it in payment_processor_responses; neither the
// client secret nor an access token ever appears in an Exchange.
//
// Processor adapts the client to a checkout: CreatePayment creates the order of a frozen basket
// and returns the approval URL the learner is sent to; Complete captures the approved order when
// PayPal sends the learner back to the return URL, and normalises the capture into a
// commerce.PaymentNotification for the checkout workflow. Refunder refunds captures behind
// payment.Refunder, idempotently (its PayPal-Request-Id derives from the refund's key).
//
// Money is shopspring/decimal in Go and a string on the wire ("49.00"; whole units for the
// currencies PayPal refuses decimals in), never a float.
package paypal

// Name is the processor name used in the API, the audit log and the checkout workflow.
const Name = "paypal"
