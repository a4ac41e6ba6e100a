package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

const paypalName = "paypal"

// HostedProcessor is a processor whose payment page needs a call to the processor first (PayPal
// Checkout): the payment is created after the basket is frozen, and completed server side when
// the buyer comes back. *paypal.Processor implements it.
type HostedProcessor interface {
	Name() string
	// CreatePayment creates (idempotently, keyed by the order number) the processor's payment of
	// a checkout and returns where to send the buyer.
	CreatePayment(ctx context.Context, c commerce.Checkout, returnURL, cancelURL string) (commerce.PaymentData, error)
	// LookUp asks the processor which order number its payment was created for, and whether
	// the payment is still open (not approved, nothing taken), so that it may be cancelled.
	LookUp(ctx context.Context, paymentID string) (orderNumber string, open bool, err error)
	// CompleteAll captures the approved payment (idempotently) and returns one notification per
	// capture that took money (more than one: paid twice), or the outcome when nothing was.
	CompleteAll(ctx context.Context, paymentID string, c commerce.Checkout) ([]commerce.PaymentNotification, error)
}

// hostedPayment adapts a HostedProcessor to PaymentProcessor: inside the freeze transaction it
// builds no page (that needs the processor); startCheckout creates the payment afterwards.
type hostedPayment struct{ HostedProcessor }

// PaymentData is the placeholder stored with the frozen basket.
func (h hostedPayment) PaymentData(commerce.Checkout) (commerce.PaymentData, error) {
	return commerce.PaymentData{Processor: h.Name(), FormData: map[string]string{}}, nil
}

// paypalPaymentID is the shape of a PayPal order (or v1 payment) id.
var paypalPaymentID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// createHostedPayment asks the processor for the payment page of a frozen checkout.
func (s *Server) createHostedPayment(ctx context.Context, h HostedProcessor, co commerce.Checkout) (commerce.PaymentData, error) {
	returnURL := s.publicURL + "/payment/paypal/execute/"
	cancelURL := s.publicURL + "/payment/paypal/cancel/"
	data, err := h.CreatePayment(ctx, co, returnURL, cancelURL)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot create the processor's payment", "processor", h.Name(), "order_number", co.OrderNumber, "err", err)
		return data, commerce.UserError(commerce.EUnavailable,
			fmt.Sprintf("%s did not answer; try again.", h.Name()), "The payment service is not available right now; please try again.")
	}
	return data, nil
}

// paypalExecute is PayPal's return URL: the buyer approved the payment; PayPal adds token (the
// order id; edX's v1 flow names it paymentId) and PayerID. The request is recorded, the checkout
// found from PayPal's order, the payment captured (idempotently, whatever is repeated) and
// handed to the checkout workflow; the buyer goes to the receipt, or to the cancel page.
func (s *Server) paypalExecute(c *gin.Context) {
	ctx := c.Request.Context()
	id, co, responseID, ok := s.paypalReturn(c, "execute")
	if !ok {
		return
	}
	notes, err := s.paypal.CompleteAll(ctx, id, co)
	if commerce.ErrorCodeOf(err) == commerce.EInvalid {
		// Not approved, or unknown to PayPal: reloading cannot help.
		s.failPage(c, err)
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "paypal payment not completed", "paypal_order_id", id, "order_number", co.OrderNumber, "err", err)
		s.failPage(c, commerce.UserError(commerce.EUnavailable, "The PayPal payment could not be completed yet.",
			"We could not complete your PayPal payment yet. Please reload this page in a moment; you will not be charged twice."))
		return
	}
	outcome := commerce.PaymentError
	for _, n := range notes {
		n.ResponseID = responseID
		if err := s.deliverPayment(ctx, n); err != nil {
			s.fail(c, err)
			return
		}
		if outcome != commerce.PaymentAccepted {
			outcome = n.Outcome
		}
	}
	if outcome == commerce.PaymentAccepted {
		c.Redirect(http.StatusSeeOther, s.receiptURL(co.OrderNumber))
		return
	}
	c.Redirect(http.StatusSeeOther, s.cancelURL(co.OrderNumber, outcome))
}

// paypalCancel is PayPal's cancel URL: the buyer left PayPal without paying. The checkout ends
// (the workflow gives the learner an open basket again) only if PayPal says its order is still
// open: an approved or paid order is completed instead, so a cancel link can never drop money.
func (s *Server) paypalCancel(c *gin.Context) {
	ctx := c.Request.Context()
	id, co, responseID, ok := s.paypalReturn(c, "cancel")
	if !ok {
		return
	}
	invoice, open, err := s.paypal.LookUp(ctx, id)
	if err == nil && invoice != co.OrderNumber {
		err = fmt.Errorf("paypal order %s is for %q, recorded for %s", id, invoice, co.OrderNumber)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "paypal order not read", "paypal_order_id", id, "err", err)
		s.failPage(c, commerce.UserError(commerce.EUnavailable, "PayPal did not answer.",
			"We could not reach PayPal; please reload this page in a moment."))
		return
	}
	if !open {
		s.paypalExecute(c)
		return
	}
	n := commerce.PaymentNotification{Processor: paypalName, TransactionID: id, OrderNumber: co.OrderNumber,
		Outcome: commerce.PaymentCancelled, Amount: co.Total, Currency: co.Currency,
		Message: "The buyer cancelled the payment at PayPal.", ResponseID: responseID}
	if err := s.deliverPayment(ctx, n); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.cancelURL(co.OrderNumber, commerce.PaymentCancelled))
}

// paypalReturn records a buyer's return from PayPal (its ids only, bounded), then finds its
// checkout: from the answers PayPal gave to our own order creation (so an id we never created
// costs no call to PayPal and is throttled like any refused message), confirmed by PayPal's
// order. It answers the request itself and returns false when it cannot go on.
func (s *Server) paypalReturn(c *gin.Context, kind string) (string, commerce.Checkout, int64, bool) {
	ctx := c.Request.Context()
	if s.paypal == nil {
		s.failPage(c, commerce.ErrNotFound)
		return "", commerce.Checkout{}, 0, false
	}
	id := c.Query("token")
	if id == "" {
		id = c.Query("paymentId")
	}
	if !paypalPaymentID.MatchString(id) {
		s.failPage(c, commerce.FieldError("token", "A PayPal order id is required."))
		return "", commerce.Checkout{}, 0, false
	}
	number, err := s.store.OrderNumberOfPayment(ctx, paypalName, id)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		if !s.throttled(c, s.refusedBudget) {
			s.failPage(c, commerce.UserError(commerce.EInvalid, "Unknown PayPal order "+id+".",
				"We could not find this PayPal payment. If you were charged, contact support with this reference: "+id+"."))
		}
		return "", commerce.Checkout{}, 0, false
	}
	if err != nil {
		s.fail(c, err)
		return "", commerce.Checkout{}, 0, false
	}
	query := map[string]string{"token": id}
	for _, k := range []string{"PayerID", "paymentId"} {
		if v := c.Query(k); v != "" {
			query[k] = clip(printable(v), refusedKeyBytes)
		}
	}
	responseID, err := s.store.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
		Processor: paypalName, TransactionID: id, OrderNumber: number, Kind: kind, Body: query})
	if err != nil {
		s.fail(c, fmt.Errorf("%w: record paypal %s: %w", commerce.ErrUnavailable, kind, err))
		return "", commerce.Checkout{}, 0, false
	}
	co, _, err := s.store.CheckoutByOrderNumber(ctx, number)
	if err != nil {
		s.fail(c, err)
		return "", commerce.Checkout{}, 0, false
	}
	return id, co, responseID, true
}

// cancelURL is the page of a payment that did not go through.
func (s *Server) cancelURL(orderNumber string, outcome commerce.PaymentOutcome) string {
	return s.publicURL + "/checkout/cancel-checkout/?order_number=" + url.QueryEscape(orderNumber) + "&outcome=" + url.QueryEscape(string(outcome))
}
