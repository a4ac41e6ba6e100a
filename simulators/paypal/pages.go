package paypal

import (
	"html/template"
)

// Form id of the approval page's buttons.
const approvalFormID = "approval-form"

// approvalPage is the data of the approval page.
type approvalPage struct {
	FormID      string
	ID          string
	Status      string
	InvoiceID   string
	Amount      string
	Currency    string
	Discount    string
	Items       []item
	CanApprove  bool
	ApproveText string
}

// pageError is the data of an error page.
type pageError struct {
	Title   string
	Message string
}

// approvalPageData returns the page data of an order; s.mu is held.
func approvalPageData(o *order) approvalPage {
	p := approvalPage{FormID: approvalFormID, ID: o.id, Status: o.status, InvoiceID: o.unit.InvoiceID,
		Amount: o.unit.Amount.Value, Currency: o.unit.Amount.CurrencyCode, Items: o.unit.Items,
		CanApprove: o.status != statusCompleted, ApproveText: "Approve"}
	if b := o.unit.Amount.Breakdown; b != nil && b.Discount != nil {
		p.Discount = b.Discount.Value
	}
	if o.status == statusApproved {
		p.ApproveText = "Approve again"
	}
	return p
}

const style = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.banner{background:#e7f0ff;border:1px solid #7aa7e0;padding:.5rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.25rem;text-align:left}button{margin-right:.5rem;padding:.5rem 1rem}`

var approvalTemplate = template.Must(template.New("approve").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Approve order {{.ID}} (PayPal simulator)</title>
<style>` + style + `</style></head><body>
<p class="banner">PayPal simulator: no real payment is made.</p>
<h1>Pay with PayPal</h1>
<p>Order <code id="order-id">{{.ID}}</code> ({{.Status}}), invoice {{.InvoiceID}}</p>
{{if .Items}}<table><thead><tr><th>Item</th><th>SKU</th><th>Qty</th><th>Unit price</th></tr></thead><tbody>
{{range .Items}}<tr><td>{{.Name}}</td><td>{{.SKU}}</td><td>{{.Quantity}}</td><td>{{if .UnitAmount}}{{.UnitAmount.Value}}{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Discount}}<p>Discount: {{.Discount}} {{.Currency}}</p>{{end}}
<p>Total: <strong id="amount">{{.Amount}} {{.Currency}}</strong></p>
{{if .CanApprove}}<form id="{{.FormID}}" method="post" action="checkoutnow?token={{.ID}}">
<button type="submit" name="action" value="approve">{{.ApproveText}}</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>{{else}}<p id="completed">This order has been paid.</p>{{end}}
</body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} (PayPal simulator)</title>
<style>` + style + `</style></head><body>
<p class="banner">PayPal simulator</p>
<h1>{{.Title}}</h1>
<p id="reason">{{.Message}}</p>
</body></html>
`))
