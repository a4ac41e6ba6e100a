package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// CheckoutStore is what the handlers of checkout.go need from the store: frozen baskets on their way to an order; *db.Store implements it.
type CheckoutStore interface {
	FreezeBasket(ctx context.Context, basketID int64, owner commerce.User, partner, processor string,
		build func(commerce.Checkout) (commerce.PaymentData, error)) (commerce.Checkout, commerce.PaymentData, bool, error)
	CheckoutStatus(ctx context.Context, number string) (commerce.CheckoutStatus, error)
	CheckoutByOrderNumber(ctx context.Context, number string) (commerce.Checkout, commerce.PaymentData, error)
	MarkWorkflowStarted(ctx context.Context, number string) error
}

// checkoutRequest is the body of POST /api/v2/checkout/.
type checkoutRequest struct {
	BasketID         json.Number `json:"basket_id"`
	PaymentProcessor *string     `json:"payment_processor"`
}

// checkoutResponse is edX's answer to a checkout.
type checkoutResponse struct {
	PaymentFormData  map[string]string `json:"payment_form_data"`
	PaymentPageURL   string            `json:"payment_page_url"`
	PaymentProcessor string            `json:"payment_processor"`
}

// freeProcessor names the "processor" of a basket that costs nothing.
const freeProcessor = "free"

func (s *Server) postCheckout(c *gin.Context) {
	user, _ := currentUser(c)
	var req checkoutRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	basketID, err := strconv.ParseInt(req.BasketID.String(), 10, 64)
	if err != nil || basketID <= 0 {
		s.fail(c, commerce.FieldError("basket_id", "A basket id (a positive integer) is required."))
		return
	}
	name := ""
	if req.PaymentProcessor != nil {
		name = *req.PaymentProcessor
	}
	proc, err := s.processor(name, "Payment processor [%s] not found.")
	if err != nil {
		s.fail(c, err)
		return
	}
	_, data, err := s.startCheckout(c.Request.Context(), user, basketID, proc)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, checkoutResponse{PaymentFormData: data.FormData, PaymentPageURL: data.PaymentPageURL, PaymentProcessor: data.Processor})
}

// processor finds an enabled processor by name ("" is the default one).
func (s *Server) processor(name, notFoundFormat string) (PaymentProcessor, error) {
	if s.checkouts == nil || len(s.processors) == 0 {
		return nil, commerce.UserError(commerce.EUnavailable, "Checkout is not configured on this server.", "Payment is not available right now.")
	}
	if name == "" {
		return s.processors[0], nil
	}
	for _, p := range s.processors {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, commerce.UserError(commerce.EInvalid, fmt.Sprintf(notFoundFormat, name), "We don't support the payment option you selected.")
}

// startCheckout freezes the basket and starts its checkout workflow. Asking again returns the
// first answer and never starts a second workflow; the workflow is (re)started only while the
// checkout still awaits payment, which also heals a start that failed after the freeze.
func (s *Server) startCheckout(ctx context.Context, user commerce.User, basketID int64, proc PaymentProcessor) (commerce.Checkout, commerce.PaymentData, error) {
	build := func(co commerce.Checkout) (commerce.PaymentData, error) {
		if co.IsFree() {
			return commerce.PaymentData{Processor: freeProcessor, PaymentPageURL: s.receiptURL(co.OrderNumber), FormData: map[string]string{}}, nil
		}
		return proc.PaymentData(co)
	}
	co, data, existing, err := s.store.FreezeBasket(ctx, basketID, user, s.partner, proc.Name(), build)
	if err != nil {
		return co, data, err
	}
	if existing {
		status, err := s.store.CheckoutStatus(ctx, co.OrderNumber)
		if err != nil {
			return co, data, err
		}
		if status != commerce.CheckoutAwaitingPayment {
			return co, data, nil
		}
	}
	if err := s.checkouts.Start(ctx, co); err != nil {
		// The basket stays frozen: the orphan sweeper starts the workflow, or unfreezes the basket
		// and releases its reservations, if the learner does not ask again.
		return co, data, err
	}
	if err := s.store.MarkWorkflowStarted(ctx, co.OrderNumber); err != nil {
		// The workflow runs; the sweeper will find it and record it.
		s.log.WarnContext(ctx, "cannot record that the checkout workflow started", "order_number", co.OrderNumber, "err", err)
	}
	return s.hostedPage(ctx, proc, co, data)
}

// hostedPage completes the payment data of a processor whose page needs a call to it first
// (PayPal): the payment is created once the basket is frozen and its workflow runs, and asking
// again gets the same payment (the processor's create is idempotent on the order number).
func (s *Server) hostedPage(ctx context.Context, proc PaymentProcessor, co commerce.Checkout, data commerce.PaymentData) (commerce.Checkout, commerce.PaymentData, error) {
	hosted, ok := proc.(hostedPayment)
	if !ok || co.IsFree() {
		return co, data, nil
	}
	data, err := s.createHostedPayment(ctx, hosted.HostedProcessor, co)
	return co, data, err
}

func (s *Server) receiptURL(orderNumber string) string {
	return s.publicURL + "/checkout/receipt/?order_number=" + url.QueryEscape(orderNumber)
}
