package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
)

// Steps of a purchase, in the order of the journey. "payment" starts when the learner presses
// Pay on the hosted page (the simulator notifies the API before it answers the browser).
const (
	StepBasket   = "basket"
	StepVoucher  = "voucher"
	StepCheckout = "checkout"
	StepPay      = "pay page + Pay (notify)"
	StepRedirect = "signed reply (redirect)"
	StepPlaced   = "payment->order placed"
	StepEnrolled = "payment->enrolled"
	StepTotal    = "total"
)

// purchaseSteps are the steps a purchase reports, in order.
var purchaseSteps = []string{StepBasket, StepVoucher, StepCheckout, StepPay, StepRedirect, StepPlaced, StepEnrolled, StepTotal}

// shop is what every learner of a run shares: the seat, its course, the voucher and the clients.
type shop struct {
	o        Options
	runID    string
	client   *http.Client
	sku      string
	courseID string
	voucher  string
}

// newShop prepares the run's seat: the one named by o.SKU, or a new course published with a
// staff token; and the voucher, created when o.Voucher is "auto".
func newShop(ctx context.Context, o Options, runID string) (*shop, error) {
	s := &shop{o: o, runID: runID, client: newHTTPClient(o.Users), sku: o.SKU, voucher: o.Voucher}
	staff, err := o.Token("load-staff-"+runID, true)
	if err != nil {
		return nil, fmt.Errorf("mint staff token: %w", err)
	}
	var stockRecordID int64
	if s.sku == "" {
		stockRecordID, err = s.publish(ctx, staff)
	} else {
		stockRecordID, err = s.lookUp(ctx, staff)
	}
	if err != nil {
		return nil, err
	}
	if s.voucher == "auto" {
		if err := s.createVoucher(ctx, staff, stockRecordID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// publish creates a course with a verified seat at 49.00 and keeps its SKU and course ID.
func (s *shop) publish(ctx context.Context, staff string) (int64, error) {
	s.courseID = fmt.Sprintf("course-v1:Load+L%s+2026", s.runID)
	body := map[string]any{"id": s.courseID, "name": "Load test " + s.runID, "products": []any{
		map[string]any{"product_class": "Seat", "price": "49.00", "attribute_values": []any{
			map[string]any{"name": "certificate_type", "value": "verified"},
			map[string]any{"name": "id_verification_required", "value": false}}}}}
	var course struct {
		Products []struct {
			PartnerSKU   string `json:"partner_sku"`
			StockRecords []struct {
				ID int64 `json:"id"`
			} `json:"stockrecords"`
		} `json:"products"`
	}
	if err := s.call(ctx, http.MethodPost, s.o.API+"/api/v2/publication/", staff, body, &course); err != nil {
		return 0, fmt.Errorf("publish the load course: %w", err)
	}
	for _, p := range course.Products {
		if p.PartnerSKU != "" && len(p.StockRecords) > 0 {
			s.sku = p.PartnerSKU
			return p.StockRecords[0].ID, nil
		}
	}
	return 0, errors.New("publish the load course: the answer has no seat")
}

// lookUp finds the course and stock record of s.sku.
func (s *shop) lookUp(ctx context.Context, staff string) (int64, error) {
	var sr struct {
		ID      int64 `json:"id"`
		Product int64 `json:"product"`
	}
	if err := s.call(ctx, http.MethodGet, s.o.API+"/api/v2/stockrecords/"+url.PathEscape(s.sku)+"/", staff, nil, &sr); err != nil {
		return 0, fmt.Errorf("look up --sku %s: %w", s.sku, err)
	}
	var p struct {
		CourseID string `json:"course_id"`
	}
	if err := s.call(ctx, http.MethodGet, fmt.Sprintf("%s/api/v2/products/%d/", s.o.API, sr.Product), staff, nil, &p); err != nil {
		return 0, fmt.Errorf("look up the product of --sku %s: %w", s.sku, err)
	}
	if p.CourseID == "" {
		return 0, fmt.Errorf("--sku %s is not a seat in a course", s.sku)
	}
	s.courseID = p.CourseID
	return sr.ID, nil
}

// createVoucher creates a Multi-use 10 % code for the seat and keeps it.
func (s *shop) createVoucher(ctx context.Context, staff string, stockRecordID int64) error {
	code := "LOAD" + strings.ToUpper(s.runID)
	now := time.Now().UTC()
	body := map[string]any{"title": "Load test " + s.runID, "category": map[string]string{"name": "load"},
		"stock_record_ids": []int64{stockRecordID}, "benefit_type": "Percentage", "benefit_value": 10,
		"voucher_type": "Multi-use", "quantity": 1, "code": code, "max_uses": 1_000_000,
		"start_datetime": now.Add(-time.Hour).Format(time.RFC3339), "end_datetime": now.Add(30 * 24 * time.Hour).Format(time.RFC3339)}
	if err := s.call(ctx, http.MethodPost, s.o.API+"/api/v2/coupons/", staff, body, nil); err != nil {
		return fmt.Errorf("create the load voucher: %w", err)
	}
	s.voucher = code
	return nil
}

// purchase is one learner's whole journey, as a browser and the learner would make it.
func (s *shop) purchase(ctx context.Context, n int) outcome {
	steps := map[string]time.Duration{}
	polls := 0
	user := fmt.Sprintf("load-%s-%d", s.runID, n)
	token, err := s.o.Token(user, false)
	if err != nil {
		return failed(steps, polls, failStep("token", err))
	}
	t0 := time.Now()
	form, err := s.checkout(ctx, token, steps)
	if err != nil {
		return failed(steps, polls, err)
	}
	number := form["reference_number"]
	paid, err := s.pay(ctx, form, steps)
	if err != nil {
		return failed(steps, polls, err)
	}
	orderURL := s.o.API + "/api/v2/orders/" + url.PathEscape(number) + "/"
	p, err := s.waitFor(ctx, orderURL, "JWT "+token, "")
	polls += p
	if err != nil {
		return failed(steps, polls, failStep(StepPlaced, err))
	}
	steps[StepPlaced] = time.Since(paid)
	enrollmentURL := s.o.LMS + "/api/enrollment/v1/enrollment/" + url.PathEscape(user) + "," + url.PathEscape(s.courseID)
	p, err = s.waitFor(ctx, enrollmentURL, "", s.o.LMSAPIKey)
	polls += p
	if err != nil {
		return failed(steps, polls, failStep(StepEnrolled, err))
	}
	steps[StepEnrolled] = time.Since(paid)
	steps[StepTotal] = time.Since(t0)
	return outcome{steps: steps, polls: polls}
}

// checkout fills the learner's basket, applies the voucher, checks out with CyberSource and
// returns the signed payment form.
func (s *shop) checkout(ctx context.Context, token string, steps map[string]time.Duration) (map[string]string, error) {
	t := time.Now()
	var basket struct {
		ID int64 `json:"id"`
	}
	body := map[string]any{"products": []map[string]string{{"sku": s.sku}}}
	if err := s.call(ctx, http.MethodPost, s.o.API+"/api/v2/baskets/", token, body, &basket); err != nil {
		return nil, failStep(StepBasket, err)
	}
	steps[StepBasket] = time.Since(t)
	if s.voucher != "" {
		t = time.Now()
		u := fmt.Sprintf("%s/api/v2/baskets/%d/vouchers/", s.o.API, basket.ID)
		if err := s.call(ctx, http.MethodPost, u, token, map[string]string{"code": s.voucher}, nil); err != nil {
			return nil, failStep(StepVoucher, err)
		}
		steps[StepVoucher] = time.Since(t)
	}
	t = time.Now()
	var co struct {
		Form    map[string]string `json:"payment_form_data"`
		PageURL string            `json:"payment_page_url"`
	}
	body = map[string]any{"basket_id": basket.ID, "payment_processor": "cybersource"}
	if err := s.call(ctx, http.MethodPost, s.o.API+"/api/v2/checkout/", token, body, &co); err != nil {
		return nil, failStep(StepCheckout, err)
	}
	if co.Form["reference_number"] == "" {
		return nil, &stepError{step: StepCheckout, cause: "no payment form", err: fmt.Errorf("answer has no payment form (free basket?): page %q", co.PageURL)}
	}
	steps[StepCheckout] = time.Since(t)
	return co.Form, nil
}

// pay posts the form to the hosted page, presses Pay, and posts the signed reply back to the
// service as the browser does; it returns when Pay was pressed.
func (s *shop) pay(ctx context.Context, form map[string]string, steps map[string]time.Duration) (time.Time, error) {
	t := time.Now()
	payURL := s.o.CyberSource + "/pay"
	page, err := s.postForm(ctx, payURL, form)
	if err != nil {
		return t, failStep(StepPay, err)
	}
	action, fields, err := cybersim.ParseAutoSubmitForm(page)
	if err != nil || fields["session"] == "" {
		return t, &stepError{step: StepPay, cause: "no payment page", err: fmt.Errorf("%v: %.200s", err, page)}
	}
	confirmURL, err := resolve(payURL, action)
	if err != nil {
		return t, failStep(StepPay, err)
	}
	fields["action"] = cybersim.ActionPay
	paid := time.Now()
	replyPage, err := s.postForm(ctx, confirmURL, fields)
	if err != nil {
		return paid, failStep(StepPay, err)
	}
	target, reply, err := cybersim.ParseAutoSubmitForm(replyPage)
	if err != nil {
		return paid, &stepError{step: StepPay, cause: "no reply form", err: err}
	}
	if reply["decision"] != "ACCEPT" {
		return paid, &stepError{step: StepPay, cause: "decision " + reply["decision"], err: fmt.Errorf("reason %s", reply["reason_code"])}
	}
	steps[StepPay] = time.Since(t)
	t = time.Now()
	req, err := newRequest(ctx, http.MethodPost, target, strings.NewReader(encode(reply)))
	if err != nil {
		return paid, failStep(StepRedirect, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := s.do(req, http.StatusSeeOther); err != nil {
		return paid, failStep(StepRedirect, err)
	}
	steps[StepRedirect] = time.Since(t)
	return paid, nil
}

// waitFor reads u every o.Poll until it answers 200 (404 means not yet), and returns how many
// reads it made.
func (s *shop) waitFor(ctx context.Context, u, authorization, apiKey string) (int, error) {
	for polls := 1; ; polls++ {
		req, err := newRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return polls, err
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		if apiKey != "" {
			req.Header.Set("X-Edx-Api-Key", apiKey)
		}
		_, err = s.do(req, http.StatusOK)
		var he *httpError
		if err == nil {
			return polls, nil
		}
		if !errors.As(err, &he) || (he.status != http.StatusNotFound && he.status != http.StatusTooManyRequests) {
			return polls, err
		}
		wait := s.o.Poll
		if he.status == http.StatusTooManyRequests {
			wait = time.Second // the learner's own request budget (USER_RATE_LIMIT): a receipt page's pace
		}
		select {
		case <-ctx.Done():
			return polls, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// call sends body as JSON with the learner's token and decodes a 2xx answer into out.
func (s *shop) call(ctx context.Context, method, u, token string, body, out any) error {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(raw)
	}
	req, err := newRequest(ctx, method, u, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "JWT "+token)
	req.Header.Set("Content-Type", "application/json")
	raw, err := s.do(req, 0)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	return nil
}

// postForm posts a form and returns the 200 answer's body.
func (s *shop) postForm(ctx context.Context, u string, form map[string]string) ([]byte, error) {
	req, err := newRequest(ctx, http.MethodPost, u, strings.NewReader(encode(form)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req, http.StatusOK)
}

// do sends req and returns the body; want is the expected status (0: any 2xx).
func (s *shop) do(req *http.Request, want int) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if (want == 0 && resp.StatusCode/100 != 2) || (want != 0 && resp.StatusCode != want) {
		return nil, &httpError{method: req.Method, url: req.URL.Path, status: resp.StatusCode, body: string(raw)}
	}
	return raw, nil
}

// newRequest is http.NewRequestWithContext.
func newRequest(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, method, u, body)
}

// encode form-encodes fields.
func encode(fields map[string]string) string {
	v := url.Values{}
	for k, x := range fields {
		v.Set(k, x)
	}
	return v.Encode()
}

// resolve resolves a form action against the page's URL.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}
