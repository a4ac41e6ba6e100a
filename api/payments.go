package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// PaymentStore is what the handlers of payments.go need from the store: processor messages and recorded payments; *db.Store implements it.
type PaymentStore interface {
	OrderNumberOfPayment(ctx context.Context, processor, paymentID string) (string, error)
	RecordProcessorResponse(ctx context.Context, r commerce.ProcessorResponse) (int64, error)
	PaymentDelivered(ctx context.Context, n commerce.PaymentNotification) (bool, error)
	MarkPaymentDelivered(ctx context.Context, responseID int64, outcome commerce.PaymentOutcome) error
}

const cybersourceName = "cybersource"

// cybersourceNotify receives CyberSource's server-to-server reply (200 once recorded).
func (s *Server) cybersourceNotify(c *gin.Context) { s.cybersourceCallback(c, "notification") }

// cybersourceRedirect receives the reply the learner's browser posts back (303 to a page).
func (s *Server) cybersourceRedirect(c *gin.Context) { s.cybersourceCallback(c, "redirect") }

// cybersourceCallback records the raw reply before anything else, then verifies it, then hands
// an authentic one to the checkout workflow. A forged reply is recorded and answered 400; if the
// database or Temporal is down the answer is 503 so that the processor tries again.
func (s *Server) cybersourceCallback(c *gin.Context, kind string) {
	if s.cybersource == nil {
		detail(c, http.StatusNotFound, "Not found.")
		return
	}
	fields, ok := s.readCallbackForm(c, cybersourceName, kind)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	n, verr := s.cybersource.Notification(fields)
	authentic := !errors.Is(verr, commerce.ErrForgedMessage)
	body, txn, number := fields, fields["transaction_id"], fields["req_reference_number"]
	if !authentic {
		if body, ok = s.refusedCallback(c, fields); !ok {
			return
		}
		txn, number = clip(txn, refusedKeyBytes), clip(number, refusedKeyBytes)
	}
	id, err := s.store.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
		Processor: cybersourceName, TransactionID: txn, OrderNumber: number,
		Kind: kind, Authentic: &authentic, Body: body,
	})
	if err != nil {
		s.fail(c, fmt.Errorf("%w: record cybersource %s: %w", commerce.ErrUnavailable, kind, err))
		return
	}
	if verr != nil {
		s.log.WarnContext(ctx, "cybersource reply refused", "kind", kind, "authentic", authentic, "response_id", id, "order_number", fields["req_reference_number"], "err", verr)
		var e *commerce.Error
		errors.As(verr, &e)
		detail(c, http.StatusBadRequest, e.Message)
		return
	}
	n.ResponseID = id
	if err := s.deliverPayment(ctx, n); err != nil {
		s.fail(c, err)
		return
	}
	if kind == "notification" {
		c.JSON(http.StatusOK, gin.H{"status": "recorded", "response_id": id})
		return
	}
	target := s.receiptURL(n.OrderNumber)
	if n.Outcome != commerce.PaymentAccepted && n.Outcome != commerce.PaymentDuplicate {
		target = s.cancelURL(n.OrderNumber, n.Outcome)
	}
	c.Redirect(http.StatusSeeOther, target)
}

// deliverPayment signals an authentic notification to its checkout, once: a message whose
// transaction and outcome were already signalled (the browser's redirect after the processor's
// notification, a processor's retry) or whose payment the order already records is not
// signalled again (the workflow would only count it). Any other accepted payment reaches the
// checkout workflow, started again if it is over: the workflow places the order, or refunds a
// second payment as excessive, whenever it arrives.
func (s *Server) deliverPayment(ctx context.Context, n commerce.PaymentNotification) error {
	co, _, err := s.store.CheckoutByOrderNumber(ctx, n.OrderNumber)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		s.log.WarnContext(ctx, "payment notification for an unknown order number", "order_number", n.OrderNumber, "response_id", n.ResponseID)
		return nil
	}
	if err != nil {
		return err
	}
	delivered, err := s.store.PaymentDelivered(ctx, n)
	if err != nil {
		return err
	}
	if delivered {
		s.log.InfoContext(ctx, "redundant payment notification", "order_number", n.OrderNumber, "transaction_id", n.TransactionID, "outcome", n.Outcome)
		return nil
	}
	if err := s.checkouts.NotifyPayment(ctx, co, n); err != nil {
		return err
	}
	if n.ResponseID != 0 {
		// Best effort: if this fails, a repeat of the message is signalled again, and the
		// workflow counts it as a repeat.
		if err := s.store.MarkPaymentDelivered(ctx, n.ResponseID, n.Outcome); err != nil {
			s.log.WarnContext(ctx, "cannot mark a payment message delivered", "response_id", n.ResponseID, "err", err)
		}
	}
	return nil
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>{{.Title}}</h1><p>{{.Body}}</p><p>Order number: <code>{{.OrderNumber}}</code></p>
{{with .BasketURL}}<p><a id="back-to-basket" href="{{.}}">Back to your basket</a></p>{{end}}
</body></html>`))

// page is a small page about a payment: what happened, the order, and (BasketURL) the way back.
type page struct{ Title, Body, OrderNumber, BasketURL string }

// receipt shows an order to its owner (JSON, with a token). A browser coming back from the
// processor without a token gets a page that names the order and shows nothing personal.
func (s *Server) receipt(c *gin.Context) {
	number := c.Query("order_number")
	user, ok := currentUser(c)
	if !ok {
		if c.NegotiateFormat(gin.MIMEJSON, gin.MIMEHTML) == gin.MIMEHTML {
			c.Status(http.StatusOK)
			c.Header("Content-Type", "text/html; charset=utf-8")
			_ = pageTemplate.Execute(c.Writer, page{Title: "Thank you for your order",
				Body: "Your payment was received. Your enrollment is being processed; it appears on your dashboard within moments.", OrderNumber: number})
			return
		}
		unauthorized(c, "Authentication credentials were not provided.")
		return
	}
	if number == "" {
		s.fail(c, commerce.FieldError("order_number", "This parameter is required."))
		return
	}
	if c.NegotiateFormat(gin.MIMEJSON, gin.MIMEHTML) == gin.MIMEHTML {
		s.receiptHTML(c, user, number)
		return
	}
	s.showOrder(c, user, number)
}

// cancelTexts are what the cancel page says for each outcome; the outcome in the URL only picks
// one of these fixed texts.
var cancelTexts = map[string]page{
	string(commerce.PaymentReview): {Title: "Your payment is being reviewed",
		Body: "The payment service is reviewing your payment. Your order is completed as soon as it is confirmed; you will not be charged twice."},
	string(commerce.PaymentDeclined): {Title: "Payment declined",
		Body: "Your payment was declined. Nothing was charged; your basket has been restored so you can try again."},
	string(commerce.PaymentCancelled): {Title: "Payment cancelled",
		Body: "You cancelled the payment. Nothing was charged; your basket has been restored so you can try again."},
}

// cancelPage tells a learner whose payment did not go through what happened.
func (s *Server) cancelPage(c *gin.Context) {
	p, ok := cancelTexts[c.Query("outcome")]
	if !ok {
		p = page{Title: "Payment not completed",
			Body: "Your payment was not completed. If nothing was charged, your basket has been restored so you can try again."}
	}
	p.OrderNumber = c.Query("order_number")
	if c.Query("outcome") != string(commerce.PaymentReview) {
		p.BasketURL = s.basketURL // a payment under review keeps its basket frozen
	}
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate.Execute(c.Writer, p)
}
