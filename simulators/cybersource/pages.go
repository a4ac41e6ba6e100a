package cybersource

import (
	"html/template"
	"maps"
	"net/http"
	"slices"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Form ids that tell the payment page from the reply page.
const (
	payFormID   = "payment-form"
	replyFormID = "reply-form"
)

// errorHeader carries the reason of a rejection, for scripts and Pay.
const errorHeader = "X-Simulator-Error"

// lineView is one line item shown on the payment page.
type lineView struct {
	Name, SKU, Quantity, UnitPrice, Discount, Total string
}

// payPage is the data of the payment page.
type payPage struct {
	FormID     string
	Session    string
	Reference  string
	Amount     string
	Currency   string
	Lines      []lineView
	CardNumber string
	CardExpiry string
}

// field is one hidden input of the reply page.
type field struct{ Name, Value string }

// replyPage is the data of the auto-submitting reply page.
type replyPage struct {
	FormID   string
	Action   string
	Decision string
	Fields   []field
}

const style = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.5rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.25rem;text-align:left}label{display:block;margin:.5rem 0}
button{margin-right:.5rem;padding:.5rem 1rem}`

var payTemplate = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay order {{.Reference}} (CyberSource simulator)</title>
<style>` + style + `</style></head><body>
<p class="banner">CyberSource Secure Acceptance simulator: no real payment is made.</p>
<h1>Order {{.Reference}}</h1>
<p>Amount: <strong id="amount">{{.Amount}} {{.Currency}}</strong></p>
{{if .Lines}}<table><thead><tr><th>Item</th><th>SKU</th><th>Qty</th><th>Unit price</th><th>Discount</th><th>Total</th></tr></thead><tbody>
{{range .Lines}}<tr><td>{{.Name}}</td><td>{{.SKU}}</td><td>{{.Quantity}}</td><td>{{.UnitPrice}}</td><td>{{.Discount}}</td><td>{{.Total}}</td></tr>
{{end}}</tbody></table>{{end}}
<form id="{{.FormID}}" method="post" action="pay/confirm">
<input type="hidden" name="session" value="{{.Session}}">
<label>Card number <input name="card_number" value="{{.CardNumber}}" autocomplete="off"></label>
<label>Expiry (MM-YYYY) <input name="card_expiry_date" value="{{.CardExpiry}}" autocomplete="off"></label>
<label>Security code <input name="card_cvn" value="123" autocomplete="off"></label>
<button type="submit" name="action" value="pay">Pay</button>
<button type="submit" name="action" value="decline">Decline</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form></body></html>
`))

var replyTemplate = template.Must(template.New("reply").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Returning to the merchant (CyberSource simulator)</title>
<style>` + style + `</style></head><body>
<p class="banner">CyberSource Secure Acceptance simulator: decision {{.Decision}}.</p>
<form id="{{.FormID}}" method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit">Continue to the merchant</button>
</form>
<script>document.getElementById("{{.FormID}}").submit();</script>
</body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request rejected (CyberSource simulator)</title>
<style>` + style + `</style></head><body>
<p class="banner">CyberSource Secure Acceptance simulator</p>
<h1>{{.Status}} {{.StatusText}}</h1>
<p id="reason">{{.Message}}</p>
</body></html>
`))

// payPageData returns the payment page data of a checked payment form.
func payPageData(session string, fields map[string]string) payPage {
	number := DefaultCardNumber
	if v := fields["card_number"]; v != "" {
		number = v
	}
	pretty := number
	if len(number) == 16 {
		pretty = number[0:4] + " " + number[4:8] + " " + number[8:12] + " " + number[12:16]
	}
	return payPage{
		FormID: payFormID, Session: session, Reference: fields["reference_number"],
		Amount: fields["amount"], Currency: fields["currency"], Lines: lineItems(fields),
		CardNumber: pretty, CardExpiry: DefaultCardExpiry,
	}
}

// writePayPage renders the payment page.
func writePayPage(w http.ResponseWriter, data payPage) {
	simhttp.WriteHTML(w, http.StatusOK, payTemplate, data)
}

// writeReplyPage renders the page that posts reply to action by itself
// (with a button for browsers without JavaScript).
func writeReplyPage(w http.ResponseWriter, action string, reply map[string]string) {
	data := replyPage{FormID: replyFormID, Action: action, Decision: reply["decision"]}
	for _, name := range slices.Sorted(maps.Keys(reply)) {
		data.Fields = append(data.Fields, field{Name: name, Value: reply[name]})
	}
	simhttp.WriteHTML(w, http.StatusOK, replyTemplate, data)
}

// writeError renders an error page that says what is wrong; the reason is
// also sent in the X-Simulator-Error header.
func writeError(w http.ResponseWriter, rej *rejection) {
	w.Header().Set(errorHeader, rej.message)
	simhttp.WriteHTML(w, rej.status, errorTemplate, map[string]any{
		"Status": rej.status, "StatusText": http.StatusText(rej.status), "Message": rej.message,
	})
}
