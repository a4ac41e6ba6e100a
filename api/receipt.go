package api

import (
	"html/template"
	"net/http"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// receiptTemplate shows an order to its owner in a browser: its lines and their enrollment
// state. While the order is not placed or not fulfilled the page reloads itself every few
// seconds (no script needed).
var receiptTemplate = template.Must(template.New("receipt").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Receipt {{.Number}}</title>
{{if .Pending}}<meta http-equiv="refresh" content="3">{{end}}</head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto">
<h1>{{if .Order}}Thank you for your order{{else}}Your payment is being processed{{end}}</h1>
<p>Order number: <code>{{.Number}}</code></p>
{{if .Stuck}}<p id="fulfillment-problem"><strong>We could not finish your enrollment yet.</strong> Your payment is
safe and you do not need to pay again: our support team has been told and will complete it.</p>{{end}}
{{with .Order}}
<p>Status: <strong id="order-status">{{.Status}}</strong> &middot; placed {{.DatePlaced.Format "2006-01-02 15:04 MST"}}</p>
<table style="border-collapse: collapse; width: 100%">
<thead><tr><th style="text-align:left">Item</th><th style="text-align:right">Price</th><th style="text-align:left; padding-left:1em">Enrollment</th></tr></thead>
<tbody>{{range .Lines}}<tr><td>{{.Title}}</td><td style="text-align:right">{{$.Money .LinePrice}} {{$.Currency}}</td><td style="padding-left:1em" class="line-status">{{.Status}}</td></tr>{{end}}</tbody>
</table>
<p>Total: <strong>{{$.Money .TotalInclTax}} {{.Currency}}</strong>{{with .Payment}} &middot; paid with {{$.ProcessorLabel .Processor}}{{with .Label}} ({{.}}){{end}}{{end}}</p>
{{else}}<p>This page refreshes by itself; your enrollment follows as soon as the payment is confirmed.</p>{{end}}
{{if .Pending}}<p><small>Updating&hellip;</small></p>{{end}}
</body></html>`))

// receiptPage is what receiptTemplate shows.
type receiptPage struct {
	Number   string
	Order    *commerce.Order
	Currency string
	// Pending reloads the page: the order is not placed, or is still being fulfilled.
	Pending bool
	// Stuck says the fulfillment failed and waits for ops (no reloading: it may take a while).
	Stuck bool
}

// Money writes an amount with two decimals.
func (receiptPage) Money(d interface{ StringFixed(int32) string }) string { return d.StringFixed(2) }

// ProcessorLabel names a processor as the basket page does ("Credit or debit card").
func (receiptPage) ProcessorLabel(name string) string { return processorLabel(name) }

// receiptHTML renders the receipt of an order for its owner (or staff) in a browser.
func (s *Server) receiptHTML(c *gin.Context, user commerce.User, number string) {
	p := receiptPage{Number: number, Pending: true}
	o, err := s.store.Order(c.Request.Context(), number)
	switch {
	case err == nil:
		if verr := visibleTo(user, o.UserID); verr != nil {
			s.failPage(c, verr)
			return
		}
		p.Order, p.Currency = &o, o.Currency
		p.Stuck = o.Status == commerce.OrderFulfillmentError
		p.Pending = o.Status != commerce.OrderComplete && !p.Stuck
	case commerce.ErrorCodeOf(err) == commerce.ENotFound:
		if co, _, cerr := s.store.CheckoutByOrderNumber(c.Request.Context(), number); cerr != nil || visibleTo(user, co.UserID) != nil {
			s.failPage(c, commerce.ErrNotFound)
			return
		}
	default:
		s.failPage(c, err)
		return
	}
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := receiptTemplate.Execute(c.Writer, p); err != nil {
		s.log.ErrorContext(c.Request.Context(), "render the receipt page", "order_number", number, "err", err)
	}
}
