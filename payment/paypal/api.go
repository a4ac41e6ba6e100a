package paypal

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/shopspring/decimal"
)

// CreateOrder creates an order with intent CAPTURE and one purchase unit, the buyer to
// approve it at the order's ApproveURL. Sending the same r.RequestID again returns the same
// order. It returns an error wrapping ErrInvalidRequest before sending anything, an *APIError
// or a *TransportError when the call failed, or ErrMalformedResponse.
func (c *Client) CreateOrder(ctx context.Context, r OrderRequest) (Order, error) {
	if err := r.validate(); err != nil {
		return Order{}, fmt.Errorf("paypal: create order: %w", err)
	}
	body, err := r.toWire()
	if err != nil {
		return Order{}, fmt.Errorf("paypal: create order: %w", err)
	}
	var w wireOrder
	k := call{kind: KindCreateOrder, method: http.MethodPost, path: "/v2/checkout/orders", requestID: r.RequestID, body: body}
	if err := c.do(ctx, k, &w); err != nil {
		return Order{}, fmt.Errorf("paypal: create order for %s: %w", r.InvoiceID, err)
	}
	o, err := w.toOrder()
	if err != nil {
		return Order{}, fmt.Errorf("paypal: create order for %s: %w", r.InvoiceID, err)
	}
	return o, nil
}

// GetOrder reads an order, its payer and its captures. Errors are as for CreateOrder; an
// unknown order is a 404 *APIError (see IsNotFound).
func (c *Client) GetOrder(ctx context.Context, id string) (Order, error) {
	if id == "" {
		return Order{}, fmt.Errorf("paypal: get order: %w: empty order id", ErrInvalidRequest)
	}
	var w wireOrder
	k := call{kind: KindGetOrder, method: http.MethodGet, path: "/v2/checkout/orders/" + url.PathEscape(id), orderID: id}
	if err := c.do(ctx, k, &w); err != nil {
		return Order{}, fmt.Errorf("paypal: get order %s: %w", id, err)
	}
	o, err := w.toOrder()
	if err != nil {
		return Order{}, fmt.Errorf("paypal: get order %s: %w", id, err)
	}
	return o, nil
}

// CaptureOrder captures the payment of an approved order. Sending the same requestID again
// returns the first answer instead of capturing twice. PayPal answers 422 with
// ORDER_ALREADY_CAPTURED (IsAlreadyCaptured), INSTRUMENT_DECLINED (IsInstrumentDeclined) or
// ORDER_NOT_APPROVED (IsNotApproved); other errors are as for CreateOrder.
func (c *Client) CaptureOrder(ctx context.Context, id, requestID string) (Order, error) {
	if id == "" || requestID == "" || len(requestID) > maxRequestID {
		return Order{}, fmt.Errorf("paypal: capture order: %w: an order id and a request id of at most %d characters are required", ErrInvalidRequest, maxRequestID)
	}
	var w wireOrder
	k := call{kind: KindCaptureOrder, method: http.MethodPost, path: "/v2/checkout/orders/" + url.PathEscape(id) + "/capture",
		requestID: requestID, orderID: id}
	if err := c.do(ctx, k, &w); err != nil {
		return Order{}, fmt.Errorf("paypal: capture order %s: %w", id, err)
	}
	o, err := w.toOrder()
	if err != nil {
		return Order{}, fmt.Errorf("paypal: capture order %s: %w", id, err)
	}
	return o, nil
}

// RefundCapture refunds amount (in currency) of a capture; a zero amount refunds what is left
// of it. Sending the same requestID again returns the first refund. A capture refunded in
// full already is a 422 CAPTURE_FULLY_REFUNDED (IsAlreadyRefunded); other errors are as for
// CreateOrder.
func (c *Client) RefundCapture(ctx context.Context, captureID, requestID string, amount decimal.Decimal, currency string) (Refund, error) {
	if captureID == "" || requestID == "" || len(requestID) > maxRequestID || amount.IsNegative() {
		return Refund{}, fmt.Errorf("paypal: refund capture: %w: a capture id, a request id of at most %d characters and a non-negative amount are required",
			ErrInvalidRequest, maxRequestID)
	}
	var body wireRefundRequest
	if !amount.IsZero() {
		m, err := Money{Currency: currency, Value: amount}.toWire()
		if err != nil {
			return Refund{}, fmt.Errorf("paypal: refund capture %s: %w", captureID, err)
		}
		body.Amount = &m
	}
	var w wireRefund
	k := call{kind: KindRefundCapture, method: http.MethodPost, path: "/v2/payments/captures/" + url.PathEscape(captureID) + "/refund",
		requestID: requestID, body: body, captureID: captureID}
	if err := c.do(ctx, k, &w); err != nil {
		return Refund{}, fmt.Errorf("paypal: refund capture %s: %w", captureID, err)
	}
	r, err := w.toRefund()
	if err != nil {
		return Refund{}, fmt.Errorf("paypal: refund capture %s: %w", captureID, err)
	}
	return r, nil
}
