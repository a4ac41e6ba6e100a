package paypal

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coursecommerce/commerce/simulators/internal/simhttp"
)

// Actions posted by the approval page buttons.
const (
	ActionApprove = "approve"
	ActionCancel  = "cancel"
)

// Errors of Approve and Cancel.
var (
	// ErrUnknownOrder means no order has this id.
	ErrUnknownOrder = errors.New("paypal simulator: unknown order")
	// ErrNotApprovable means the order was captured already.
	ErrNotApprovable = errors.New("paypal simulator: order cannot be approved any more")
)

// Approve approves an order as the buyer's Approve button does and returns where the browser
// is sent: the return URL with token=<order id> and PayerID=<payer id>. Approving an approved
// order again sends the browser back again with the same payer id.
func (s *Simulator) Approve(orderID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %q", ErrUnknownOrder, orderID)
	case o.status != statusCreated && o.status != statusPayerActionRequired && o.status != statusApproved:
		return "", fmt.Errorf("%w: order %s is %s", ErrNotApprovable, orderID, o.status)
	}
	if o.payerID == "" {
		o.payerID = newID(13)
	}
	o.status, o.updated = statusApproved, s.now()
	s.log.Info("paypal simulator: order approved", "order_id", orderID, "payer_id", o.payerID)
	return withQuery(o.returnURL, "token", o.id, "PayerID", o.payerID)
}

// Cancel is the buyer's Cancel button: the order is left as it is and the browser is sent to
// the cancel URL with token=<order id>.
func (s *Simulator) Cancel(orderID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownOrder, orderID)
	}
	return withQuery(o.cancelURL, "token", o.id)
}

// handleCheckoutPage serves GET and POST /checkoutnow?token=<order id>: the approval page, or
// (POST with action=approve or cancel) a press of one of its buttons. The payment page's
// empty-form POST shows the page.
func (s *Simulator) handleCheckoutPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("token")
	action := ""
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		if err := r.ParseForm(); err != nil {
			simhttp.WriteHTML(w, http.StatusBadRequest, errorTemplate, pageError{"Bad request", "cannot parse form: " + err.Error()})
			return
		}
		action = r.PostForm.Get("action")
	}
	var (
		target string
		err    error
	)
	switch action {
	case "":
		s.showApprovalPage(w, id)
		return
	case ActionApprove:
		target, err = s.Approve(id)
	case ActionCancel:
		target, err = s.Cancel(id)
	default:
		simhttp.WriteHTML(w, http.StatusBadRequest, errorTemplate, pageError{"Bad request", fmt.Sprintf("action %q is not approve or cancel", action)})
		return
	}
	if err != nil {
		simhttp.WriteHTML(w, pageStatus(err), errorTemplate, pageError{"Cannot " + action, err.Error()})
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// showApprovalPage renders the approval page of an order.
func (s *Simulator) showApprovalPage(w http.ResponseWriter, id string) {
	s.mu.Lock()
	o, ok := s.orders[id]
	var page approvalPage
	if ok {
		page = approvalPageData(o)
	}
	s.mu.Unlock()
	if !ok {
		simhttp.WriteHTML(w, http.StatusNotFound, errorTemplate, pageError{"Unknown order", fmt.Sprintf("No order has token %q.", id)})
		return
	}
	simhttp.WriteHTML(w, http.StatusOK, approvalTemplate, page)
}

// handleSimApprove serves POST /__sim/approve?token=<order id>: Approve without a browser. It
// answers {"token", "payer_id", "redirect_url"}.
func (s *Simulator) handleSimApprove(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("token")
	target, err := s.Approve(id)
	if err != nil {
		writeJSON(w, pageStatus(err), map[string]string{"error": err.Error()})
		return
	}
	s.mu.Lock()
	payerID := s.orders[id].payerID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"token": id, "payer_id": payerID, "redirect_url": target})
}

// pageStatus is the HTTP status of an Approve or Cancel error.
func pageStatus(err error) int {
	if errors.Is(err, ErrUnknownOrder) {
		return http.StatusNotFound
	}
	return http.StatusUnprocessableEntity
}

// withQuery adds name/value pairs to the query of rawURL, keeping what it has.
func withQuery(rawURL string, pairs ...string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("paypal simulator: URL %q: %w", rawURL, err)
	}
	q := u.Query()
	for i := 0; i+1 < len(pairs); i += 2 {
		q.Set(pairs[i], pairs[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
