// Package cybersource implements the merchant side of CyberSource Secure
// Acceptance (hosted payment page): it builds the signed form that the
// browser posts to CyberSource, and it verifies and normalises the signed
// reply that CyberSource posts back through the browser (receipt or cancel
// page) and server to server (merchant POST URL).
//
// Requests and replies are authenticated the same way: the fields named in
// signed_field_names, in that order, are joined as "name=value" pairs with
// commas (no URL encoding), and the message is signed with HMAC-SHA256 using
// the secret key of the profile; the signature is base64 encoded.
//
// Refunds use the REST API instead (edX used the SOAP Simple Order API's
// ccCreditService; this is a deliberate deviation): RESTClient.RefundPayment
// posts /pts/v2/payments/{transaction id}/refunds with CyberSource's HTTP
// Signature authentication (HMAC-SHA256 with the base64-decoded shared secret
// over host, date, (request-target), digest and v-c-merchant-id; see
// restsign.go), and Refunder adapts it to payment.Refunder. Every request and
// its answer is handed to RESTConfig.Record as an Exchange, which never holds
// the shared secret or the signature.
package cybersource

// Name is the processor name used in the API, the audit log and the
// checkout workflow.
const Name = "cybersource"
