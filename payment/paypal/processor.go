package paypal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/coursecommerce/commerce/commerce"
)

// Retry settings of a Processor whose fields are zero.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 250 * time.Millisecond
	maxBackoff      = 5 * time.Second
)

// Processor adapts PayPal Checkout (Orders v2) to the service: it creates the order of a
// checkout and completes it when the buyer comes back from approving it.
type Processor struct {
	// Client calls the API.
	Client *Client
	// RequestIDPrefix starts every PayPal-Request-Id the processor derives, so that two
	// deployments sharing one PayPal account (and order numbers) never share an order or a
	// capture. Optional.
	RequestIDPrefix string
	// BrandName is shown on PayPal's pages. Optional.
	BrandName string
	// Attempts bounds the calls made for one create or capture when PayPal cannot be reached
	// or answers 5xx/429 (DefaultAttempts when zero).
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each later one up to 5 s
	// (DefaultBackoff when zero).
	Backoff time.Duration
}

// Name is the processor name used in the API ("paypal").
func (p Processor) Name() string { return Name }

// CreatePayment creates the PayPal order of a checkout: intent CAPTURE, one purchase unit
// whose reference and invoice id are the order number, with the lines as items and the
// checkout's discounts, and the given return and cancel URLs. Its PayPal-Request-Id derives
// from the order number, so asking again returns the same order. The payment page URL is the
// order's approval link; all its state is in its query string (the payment page POSTs an
// empty form to it), and FormData is empty.
func (p Processor) CreatePayment(ctx context.Context, c commerce.Checkout, returnURL, cancelURL string) (commerce.PaymentData, error) {
	if p.Client == nil {
		return commerce.PaymentData{}, fmt.Errorf("paypal payment for %s: %w: no client", c.OrderNumber, ErrNotConfigured)
	}
	r, err := p.orderRequest(c, returnURL, cancelURL)
	if err != nil {
		return commerce.PaymentData{}, fmt.Errorf("paypal payment for %s: %w", c.OrderNumber, err)
	}
	ctx = WithOrderNumber(ctx, c.OrderNumber)
	var order Order
	err = p.retry(ctx, func() error {
		var err error
		order, err = p.Client.CreateOrder(ctx, r)
		return err
	})
	if err != nil {
		return commerce.PaymentData{}, fmt.Errorf("paypal payment for %s: %w", c.OrderNumber, err)
	}
	approve := order.ApproveURL()
	if !isHTTPURL(approve) {
		return commerce.PaymentData{}, fmt.Errorf("paypal payment for %s: %w: order %s has no approval link", c.OrderNumber, ErrMalformedResponse, order.ID)
	}
	return commerce.PaymentData{Processor: Name, PaymentPageURL: approve, FormData: map[string]string{}}, nil
}

// orderRequest builds the order of a checkout. The lines must add up to the checkout's total.
func (p Processor) orderRequest(c commerce.Checkout, returnURL, cancelURL string) (OrderRequest, error) {
	r := OrderRequest{
		RequestID: p.requestID("order", c.OrderNumber), ReferenceID: c.OrderNumber, InvoiceID: c.OrderNumber,
		Currency: c.Currency, ReturnURL: returnURL, CancelURL: cancelURL, BrandName: p.BrandName,
	}
	for _, l := range c.Lines {
		if !l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity))).Equal(l.LinePriceBeforeDiscounts) {
			return OrderRequest{}, fmt.Errorf("%w: line %s: %s × %d is not %s", ErrInvalidRequest, l.SKU, l.UnitPrice, l.Quantity, l.LinePriceBeforeDiscounts)
		}
		r.Items = append(r.Items, Item{Name: firstNonEmpty(l.Title, l.SKU), SKU: l.SKU, Quantity: l.Quantity, UnitAmount: l.UnitPrice})
		r.Discount = r.Discount.Add(l.LinePriceBeforeDiscounts.Sub(l.LinePrice))
	}
	if !r.Total().Equal(c.Total) {
		return OrderRequest{}, fmt.Errorf("%w: the lines total %s, the checkout %s", ErrInvalidRequest, r.Total(), c.Total)
	}
	return r, nil
}

// Complete captures the approved PayPal order paypalOrderID of checkout c and returns the
// payment notification of its capture. See CompleteAll; Complete returns its first
// notification.
func (p Processor) Complete(ctx context.Context, paypalOrderID string, c commerce.Checkout) (commerce.PaymentNotification, error) {
	ns, err := p.CompleteAll(ctx, paypalOrderID, c)
	if err != nil {
		return commerce.PaymentNotification{}, err
	}
	return ns[0], nil
}

// CompleteAll captures the approved PayPal order paypalOrderID of checkout c, idempotently
// (its PayPal-Request-Id derives from the PayPal order id), and returns one notification per
// capture that took money, the order's main capture first; when nothing was captured it
// returns just that outcome. More than one accepted notification means the order was paid
// twice (the second is excessive).
//
//   - A network error, a timeout or a 5xx/429 answer may hide a capture that happened: the
//     processor waits (Backoff), reads the order, and uses its capture if there is one; only
//     an order without a capture is captured again, with the same request id.
//   - ORDER_ALREADY_CAPTURED: the order is read and its capture used.
//   - INSTRUMENT_DECLINED: a declined notification whose transaction id is the order id.
//   - A capture COMPLETED is accepted (also once REFUNDED or PARTIALLY_REFUNDED: it took
//     money); DECLINED or FAILED is declined; PENDING is review; anything else is error.
//   - The notification carries what PayPal captured: the capture's amount, currency and
//     invoice id (as OrderNumber). When they differ from the checkout's total, currency and
//     order number the notification still says accepted, with the difference in Message,
//     and the checkout workflow flags it.
//
// An order the buyer has not approved (IsNotApproved), an unknown order (IsNotFound) and
// failures that outlast the retries are errors: nothing is known about a payment then.
func (p Processor) CompleteAll(ctx context.Context, paypalOrderID string, c commerce.Checkout) ([]commerce.PaymentNotification, error) {
	if p.Client == nil {
		return nil, fmt.Errorf("paypal: complete order %s: %w: no client", paypalOrderID, ErrNotConfigured)
	}
	ctx = WithOrderNumber(ctx, c.OrderNumber)
	order, err := p.capture(ctx, paypalOrderID)
	if IsInstrumentDeclined(err) {
		return []commerce.PaymentNotification{declinedNotification(paypalOrderID, c, err)}, nil
	}
	if IsNotApproved(err) || IsNotFound(err) {
		refusal := commerce.UserError(commerce.EInvalid, fmt.Sprintf("PayPal order %s is not approved or unknown.", paypalOrderID),
			"This PayPal payment was not approved, so nothing was charged. Please go back to your basket and try again.")
		return nil, fmt.Errorf("%w: %w", refusal, err)
	}
	if err != nil {
		return nil, fmt.Errorf("paypal: complete order %s for %s: %w", paypalOrderID, c.OrderNumber, err)
	}
	return notifications(order, c), nil
}

// OrderNumberOf reads a PayPal order and returns its invoice id: the order number of the
// checkout it was created for. The return handler uses it to find the checkout from the
// token PayPal sends the buyer back with.
func (p Processor) OrderNumberOf(ctx context.Context, paypalOrderID string) (string, error) {
	if p.Client == nil {
		return "", fmt.Errorf("paypal: read order %s: %w: no client", paypalOrderID, ErrNotConfigured)
	}
	var order Order
	err := p.retry(ctx, func() error {
		var err error
		order, err = p.Client.GetOrder(ctx, paypalOrderID)
		return err
	})
	if err != nil {
		return "", err
	}
	if order.InvoiceID() == "" {
		return "", fmt.Errorf("paypal: order %s: %w: no invoice id", paypalOrderID, ErrMalformedResponse)
	}
	return order.InvoiceID(), nil
}

// LookUp reads a PayPal order and returns the order number (invoice id) of the checkout it was
// created for, and whether it is still open: created, not approved, nothing captured, so that
// the buyer leaving PayPal may end the checkout.
func (p Processor) LookUp(ctx context.Context, paypalOrderID string) (orderNumber string, open bool, err error) {
	if p.Client == nil {
		return "", false, fmt.Errorf("paypal: read order %s: %w: no client", paypalOrderID, ErrNotConfigured)
	}
	var order Order
	err = p.retry(ctx, func() error {
		var err error
		order, err = p.Client.GetOrder(ctx, paypalOrderID)
		return err
	})
	if err != nil {
		return "", false, err
	}
	if order.InvoiceID() == "" {
		return "", false, fmt.Errorf("paypal: order %s: %w: no invoice id", paypalOrderID, ErrMalformedResponse)
	}
	open = (order.Status == OrderCreated || order.Status == OrderPayerActionRequired || order.Status == OrderSaved) && len(order.Captures()) == 0
	return order.InvoiceID(), open, nil
}

// capture captures an order once, looking the order up instead of capturing again whenever an
// earlier attempt may have captured it.
func (p Processor) capture(ctx context.Context, id string) (Order, error) {
	requestID := p.requestID("capture", id)
	var lastErr error
	for attempt := range p.attempts() {
		if attempt > 0 {
			if err := sleep(ctx, p.backoff(attempt)); err != nil {
				return Order{}, fmt.Errorf("%w; stopped retrying: %w", lastErr, err)
			}
			// The last attempt may have captured the order with its answer lost: look first.
			order, err := p.Client.GetOrder(ctx, id)
			switch {
			case err == nil && len(order.Captures()) > 0:
				return order, nil
			case err != nil && IsRetryable(err):
				lastErr = err
				continue
			case err != nil:
				return Order{}, err
			}
		}
		order, err := p.Client.CaptureOrder(ctx, id, requestID)
		switch {
		case err == nil && len(order.Captures()) > 0:
			return order, nil
		case err == nil, IsAlreadyCaptured(err):
			return p.lookUpCaptured(ctx, id)
		case IsRetryable(err):
			lastErr = err
		default:
			return Order{}, err
		}
	}
	return Order{}, fmt.Errorf("gave up after %d attempts: %w", p.attempts(), lastErr)
}

// lookUpCaptured reads an order that must have a capture.
func (p Processor) lookUpCaptured(ctx context.Context, id string) (Order, error) {
	var order Order
	err := p.retry(ctx, func() error {
		var err error
		order, err = p.Client.GetOrder(ctx, id)
		return err
	})
	if err != nil {
		return Order{}, err
	}
	if len(order.Captures()) == 0 {
		return Order{}, fmt.Errorf("%w: order %s is %s", ErrNoCapture, id, order.Status)
	}
	return order, nil
}

// retry calls f until it succeeds, fails for good, or the attempts are used up.
func (p Processor) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := range p.attempts() {
		if attempt > 0 {
			if serr := sleep(ctx, p.backoff(attempt)); serr != nil {
				return fmt.Errorf("%w; stopped retrying: %w", err, serr)
			}
		}
		if err = f(); err == nil || !IsRetryable(err) {
			return err
		}
	}
	return err
}

func (p Processor) attempts() int {
	if p.Attempts > 0 {
		return p.Attempts
	}
	return DefaultAttempts
}

// backoff is the wait before attempt (1 for the second call).
func (p Processor) backoff(attempt int) time.Duration {
	d := p.Backoff
	if d <= 0 {
		d = DefaultBackoff
	}
	for range attempt - 1 {
		if d *= 2; d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}

// requestID derives a PayPal-Request-Id from a kind of call and its business key.
func (p Processor) requestID(kind, key string) string {
	id := p.RequestIDPrefix + kind + "-" + key
	if len(id) <= maxRequestID {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return kind + "-" + hex.EncodeToString(sum[:])
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// notifications normalises the captures of an order: the main capture (the first completed
// one, else the first) and then every other capture that took money.
func notifications(order Order, c commerce.Checkout) []commerce.PaymentNotification {
	captures := order.Captures()
	main := 0
	for i, cp := range captures {
		if cp.Status == CaptureCompleted {
			main = i
			break
		}
	}
	out := []commerce.PaymentNotification{notification(order, captures[main], c)}
	for i, cp := range captures {
		if n := notification(order, cp, c); i != main && n.Outcome == commerce.PaymentAccepted {
			out = append(out, n)
		}
	}
	return out
}

// notification normalises one capture; see CompleteAll.
func notification(order Order, cp Capture, c commerce.Checkout) commerce.PaymentNotification {
	n := commerce.PaymentNotification{
		Processor: Name, TransactionID: cp.ID, OrderNumber: cp.InvoiceID, Outcome: captureOutcome(cp.Status),
		Amount: cp.Amount.Value, Currency: cp.Amount.Currency, Label: payerLabel(order.Payer),
	}
	msg := []string{fmt.Sprintf("PayPal order %s capture %s %s", order.ID, cp.ID, cp.Status)}
	if cp.StatusReason != "" {
		msg[0] += " (" + cp.StatusReason + ")"
	}
	if n.Outcome == commerce.PaymentAccepted {
		msg = append(msg, differences(n, c)...)
	}
	n.Message = strings.Join(msg, "; ")
	return n
}

// differences lists how a capture differs from the checkout it should pay for.
func differences(n commerce.PaymentNotification, c commerce.Checkout) []string {
	var out []string
	if n.OrderNumber != c.OrderNumber {
		out = append(out, fmt.Sprintf("invoice id %q is not the order number %s", n.OrderNumber, c.OrderNumber))
	}
	if n.Currency != c.Currency || !n.Amount.Equal(c.Total) {
		out = append(out, fmt.Sprintf("captured %s %s, the basket totals %s %s",
			commerce.FormatMoney(n.Amount), n.Currency, commerce.FormatMoney(c.Total), c.Currency))
	}
	return out
}

// captureOutcome maps a capture status to a payment outcome.
func captureOutcome(s CaptureStatus) commerce.PaymentOutcome {
	switch s {
	case CaptureCompleted, CapturePartiallyRefunded, CaptureRefunded:
		return commerce.PaymentAccepted
	case CaptureDeclined, CaptureFailed:
		return commerce.PaymentDeclined
	case CapturePending:
		return commerce.PaymentReview
	}
	return commerce.PaymentError
}

// declinedNotification is the notification of a capture refused with INSTRUMENT_DECLINED:
// nothing was captured, so the order id stands for the transaction.
func declinedNotification(orderID string, c commerce.Checkout, err error) commerce.PaymentNotification {
	msg := "PayPal declined the buyer's funding source (" + IssueInstrumentDeclined + ")"
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		if d := firstNonEmpty(apiErr.Description, apiErr.Message); d != "" {
			msg += ": " + d
		}
		if apiErr.DebugID != "" {
			msg += " [debug_id " + apiErr.DebugID + "]"
		}
	}
	return commerce.PaymentNotification{
		Processor: Name, TransactionID: orderID, OrderNumber: c.OrderNumber, Outcome: commerce.PaymentDeclined,
		Amount: c.Total, Currency: c.Currency, Label: "PayPal Account", Message: msg,
	}
}

// payerLabel is how edX labels a PayPal payment source.
func payerLabel(p Payer) string {
	if p.Email != "" {
		return "PayPal (" + p.Email + ")"
	}
	return "PayPal Account"
}
