package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenEndpoint(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name       string
		id, secret string
		basic      bool
		form       string
		status     int
		errorCode  string
	}{
		{"wrong secret", clientID, "nope", true, "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong id", "nope", clientSecret, true, "grant_type=client_credentials", 401, "invalid_client"},
		{"no basic auth", "", "", false, "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong grant", clientID, clientSecret, true, "grant_type=password", 400, "unsupported_grant_type"},
		{"form-encoded credentials", url.QueryEscape(clientID), url.QueryEscape(clientSecret), true, "grant_type=client_credentials", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/oauth2/token", strings.NewReader(tt.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.basic {
				req.SetBasicAuth(tt.id, tt.secret)
			}
			status, body := h.send(t, req)
			var got map[string]any
			_ = json.Unmarshal(body, &got)
			if status != tt.status || (tt.errorCode != "" && got["error"] != tt.errorCode) {
				t.Fatalf("%d %s, want %d %s", status, body, tt.status, tt.errorCode)
			}
		})
	}
	if h.sim.cfg.TokenTTL != DefaultTokenTTL || DefaultTokenTTL != 32400*time.Second {
		t.Fatalf("default token lifetime %s", h.sim.cfg.TokenTTL)
	}
	if n := len(h.sim.IssuedTokens()); n != 2 {
		t.Fatalf("%d tokens issued, want 2", n)
	}
}

func TestBearerTokenRequired(t *testing.T) {
	h := newHarness(t)
	good := h.token
	for _, tok := range []string{"", "forged"} {
		h.token = tok
		if status, body := h.api(t, http.MethodPost, "/v2/checkout/orders", "", orderBody()); status != 401 || body["error"] != "invalid_token" {
			t.Errorf("token %q: %d %v", tok, status, body)
		}
	}
	h.token = good
	h.sim.RevokeTokens()
	if status, _ := h.api(t, http.MethodGet, "/v2/checkout/orders/X", "", nil); status != 401 {
		t.Errorf("revoked token: %d", status)
	}
	if len(h.sim.Orders()) != 0 {
		t.Fatalf("orders created without a token")
	}
	h.token = h.getToken(t)
	if status, _ := h.api(t, http.MethodGet, "/v2/checkout/orders/X", "", nil); status != 404 {
		t.Errorf("new token: %d", status)
	}
}

func TestTokensExpire(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := &harness{sim: New(Config{ClientID: clientID, ClientSecret: clientSecret, TokenTTL: time.Hour, Now: func() time.Time { return now }})}
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	h.token = h.getToken(t)
	if status, _ := h.api(t, http.MethodGet, "/v2/checkout/orders/X", "", nil); status != 404 {
		t.Fatalf("fresh token: %d", status)
	}
	now = now.Add(time.Hour)
	if status, body := h.api(t, http.MethodGet, "/v2/checkout/orders/X", "", nil); status != 401 || body["error"] != "invalid_token" {
		t.Fatalf("expired token: %d %v", status, body)
	}
}

func TestCreateOrder(t *testing.T) {
	h := newHarness(t)
	status, o := h.api(t, http.MethodPost, "/v2/checkout/orders", "req-1", orderBody())
	if status != 201 || o["status"] != "PAYER_ACTION_REQUIRED" {
		t.Fatalf("create: %d %v", status, o)
	}
	id := o["id"].(string)
	if len(id) != 17 || dig(o, "purchase_units", 0, "amount", "value") != "89.20" || dig(o, "purchase_units", 0, "invoice_id") != "EDX-100042" {
		t.Fatalf("order = %v", o)
	}
	links := map[string]string{}
	for _, l := range o["links"].([]any) {
		links[dig(l, "rel").(string)] = dig(l, "href").(string)
	}
	if links["payer-action"] != h.srv.URL+"/checkoutnow?token="+id || links["self"] != h.srv.URL+"/v2/checkout/orders/"+id ||
		links["capture"] != h.srv.URL+"/v2/checkout/orders/"+id+"/capture" {
		t.Fatalf("links = %v", links)
	}

	again, o2 := h.api(t, http.MethodPost, "/v2/checkout/orders", "req-1", orderBody())
	if again != 201 || o2["id"] != id || len(h.sim.Orders()) != 1 {
		t.Fatalf("same request id: %d %v, %d orders", again, o2["id"], len(h.sim.Orders()))
	}
	if _, o3 := h.api(t, http.MethodPost, "/v2/checkout/orders", "req-2", orderBody()); o3["id"] == id {
		t.Fatalf("another request id returned the same order")
	}

	legacy := orderBody()
	delete(legacy, "payment_source")
	legacy["application_context"] = map[string]any{"return_url": returnURL, "cancel_url": cancelURL}
	if status, o := h.api(t, http.MethodPost, "/v2/checkout/orders", "", legacy); status != 201 || o["status"] != "CREATED" ||
		dig(o, "links", 1, "rel") != "approve" {
		t.Fatalf("application_context: %d %v", status, o)
	}
}

func TestCreateOrderMinimalAnswer(t *testing.T) {
	h := newHarness(t)
	raw, _ := json.Marshal(orderBody())
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v2/checkout/orders", strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	status, body := h.send(t, req)
	var o map[string]any
	if err := json.Unmarshal(body, &o); err != nil || status != 201 || o["purchase_units"] != nil || o["id"] == nil || o["links"] == nil {
		t.Fatalf("minimal answer: %d %s", status, body)
	}
}

func TestCreateOrderValidation(t *testing.T) {
	unit := func(o map[string]any) map[string]any { return dig(o, "purchase_units", 0).(map[string]any) }
	amount := func(o map[string]any) map[string]any { return unit(o)["amount"].(map[string]any) }
	item := func(o map[string]any, i int) map[string]any {
		return dig(o, "purchase_units", 0, "items", i).(map[string]any)
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		status int
		issue  string
	}{
		{"amount as a number", func(o map[string]any) { amount(o)["value"] = 89.2 }, 400, "MALFORMED_REQUEST_JSON"},
		{"three decimals", func(o map[string]any) { amount(o)["value"] = "89.201" }, 400, "DECIMAL_PRECISION"},
		{"decimals in JPY", func(o map[string]any) {
			amount(o)["currency_code"] = "JPY"
			delete(amount(o), "breakdown")
			delete(unit(o), "items")
		}, 400, "DECIMAL_PRECISION"},
		{"exponent", func(o map[string]any) { amount(o)["value"] = "8.92e1" }, 400, "INVALID_PARAMETER_SYNTAX"},
		{"zero", func(o map[string]any) {
			amount(o)["value"] = "0.00"
			delete(amount(o), "breakdown")
			delete(unit(o), "items")
		}, 422, "CANNOT_BE_ZERO_OR_NEGATIVE"},
		{"amount mismatch", func(o map[string]any) { amount(o)["value"] = "89.21" }, 422, "AMOUNT_MISMATCH"},
		{"item total mismatch", func(o map[string]any) { item(o, 1)["quantity"] = "3" }, 422, "ITEM_TOTAL_MISMATCH"},
		{"item total required", func(o map[string]any) { delete(amount(o), "breakdown") }, 422, "ITEM_TOTAL_REQUIRED"},
		{"currency mismatch", func(o map[string]any) {
			item(o, 0)["unit_amount"] = map[string]any{"currency_code": "EUR", "value": "49.00"}
		}, 422, "CURRENCY_MISMATCH"},
		{"quantity as a number", func(o map[string]any) { item(o, 0)["quantity"] = 1 }, 400, "MALFORMED_REQUEST_JSON"},
		{"item without name", func(o map[string]any) { item(o, 0)["name"] = "" }, 400, "MISSING_REQUIRED_PARAMETER"},
		{"intent authorize", func(o map[string]any) { o["intent"] = "AUTHORIZE" }, 400, "INVALID_PARAMETER_VALUE"},
		{"two purchase units", func(o map[string]any) {
			o["purchase_units"] = append(o["purchase_units"].([]any), unit(o))
		}, 400, "INVALID_PARAMETER_VALUE"},
		{"no return URL", func(o map[string]any) { delete(o, "payment_source") }, 400, "MISSING_REQUIRED_PARAMETER"},
		{"relative return URL", func(o map[string]any) {
			dig(o, "payment_source", "paypal", "experience_context").(map[string]any)["return_url"] = "/execute/"
		}, 400, "INVALID_PARAMETER_SYNTAX"},
		{"long invoice id", func(o map[string]any) { unit(o)["invoice_id"] = strings.Repeat("x", 128) }, 400, "INVALID_STRING_MAX_LENGTH"},
	}
	h := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := orderBody()
			tt.change(o)
			status, body := h.api(t, http.MethodPost, "/v2/checkout/orders", "", o)
			if status != tt.status || issue(body) != tt.issue || body["debug_id"] == "" {
				t.Fatalf("%d %v, want %d %s", status, body, tt.status, tt.issue)
			}
		})
	}
	if status, body := h.api(t, http.MethodPost, "/v2/checkout/orders", "", "{not json"); status != 400 || issue(body) != "MALFORMED_REQUEST_JSON" {
		t.Fatalf("bad JSON: %d %v", status, body)
	}
	if n := len(h.sim.Orders()); n != 0 {
		t.Fatalf("%d invalid orders kept", n)
	}
	jpy := orderBody()
	a := dig(jpy, "purchase_units", 0, "amount").(map[string]any)
	a["currency_code"], a["value"] = "JPY", "8920"
	delete(a, "breakdown")
	delete(dig(jpy, "purchase_units", 0).(map[string]any), "items")
	if status, body := h.api(t, http.MethodPost, "/v2/checkout/orders", "", jpy); status != 201 {
		t.Fatalf("whole JPY: %d %v", status, body)
	}
}

func TestApprovalPage(t *testing.T) {
	h := newHarness(t)
	id := h.createOrder(t, "")
	page := h.srv.URL + "/checkoutnow?token=" + id

	req, _ := http.NewRequest(http.MethodGet, page, nil)
	if status, body := h.send(t, req); status != 200 || !strings.Contains(string(body), `value="approve"`) ||
		!strings.Contains(string(body), "89.20 USD") || !strings.Contains(string(body), `action="checkoutnow?token=`+id+`"`) {
		t.Fatalf("GET page: %d %s", status, body)
	}
	// The payment page submits an empty form by POST to the approval URL.
	req, _ = http.NewRequest(http.MethodPost, page, strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, body := h.send(t, req); status != 200 || !strings.Contains(string(body), `value="cancel"`) {
		t.Fatalf("empty POST: %d %s", status, body)
	}
	if o, _ := h.sim.Order(id); o.Status != "PAYER_ACTION_REQUIRED" {
		t.Fatalf("showing the page changed the order: %+v", o)
	}

	press := func(action string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, page, strings.NewReader("action="+action))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		status, body := h.send(t, req)
		return status, string(body)
	}
	status, loc := press("cancel")
	if q := query(t, loc); status != http.StatusSeeOther || !strings.HasPrefix(loc, cancelURL+"?") || q.Get("token") != id || q.Has("PayerID") {
		t.Fatalf("cancel: %d %s", status, loc)
	}
	status, loc = press("approve")
	q := query(t, loc)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "https://shop.example/payment/paypal/execute/?") ||
		q.Get("token") != id || q.Get("PayerID") == "" || q.Get("lang") != "en" {
		t.Fatalf("approve: %d %s", status, loc)
	}
	o, _ := h.sim.Order(id)
	if o.Status != "APPROVED" || o.PayerID != q.Get("PayerID") {
		t.Fatalf("order after approval: %+v", o)
	}
	if status, body := press("pay"); status != 400 {
		t.Fatalf("unknown action: %d %s", status, body)
	}
	req, _ = http.NewRequest(http.MethodGet, h.srv.URL+"/checkoutnow?token=NOPE", nil)
	if status, _ := h.send(t, req); status != 404 {
		t.Fatalf("unknown order: %d", status)
	}
	if status, _ := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "", nil); status != 201 {
		t.Fatalf("capture: %d", status)
	}
	if status, body := press("approve"); status != 422 {
		t.Fatalf("approve a captured order: %d %s", status, body)
	}
}

func TestSimApprove(t *testing.T) {
	h := newHarness(t)
	id := h.createOrder(t, "")
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/approve?token="+id, nil)
	status, body := h.send(t, req)
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || status != 200 || got["token"] != id || got["payer_id"] == "" ||
		query(t, got["redirect_url"]).Get("PayerID") != got["payer_id"] {
		t.Fatalf("approve: %d %s", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/approve?token=NOPE", nil)
	if status, _ := h.send(t, req); status != 404 {
		t.Fatalf("unknown order: %d", status)
	}
	if _, err := h.sim.Approve("NOPE"); !errors.Is(err, ErrUnknownOrder) {
		t.Fatalf("Approve: %v", err)
	}
}

func TestCapture(t *testing.T) {
	h := newHarness(t)
	id := h.createOrder(t, "")
	capturePath := "/v2/checkout/orders/" + id + "/capture"
	if status, body := h.api(t, http.MethodPost, capturePath, "cap-1", nil); status != 422 || issue(body) != "ORDER_NOT_APPROVED" {
		t.Fatalf("before approval: %d %v", status, body)
	}
	if _, err := h.sim.Approve(id); err != nil {
		t.Fatal(err)
	}
	// A refusal is not stored: the same request id works once the order is approved.
	status, o := h.api(t, http.MethodPost, capturePath, "cap-1", nil)
	c := dig(o, "purchase_units", 0, "payments", "captures", 0)
	if status != 201 || o["status"] != "COMPLETED" || dig(c, "status") != "COMPLETED" || dig(c, "invoice_id") != "EDX-100042" ||
		dig(c, "amount", "value") != "89.20" || dig(c, "final_capture") != true || dig(o, "payer", "email_address") != DefaultPayerEmail {
		t.Fatalf("capture: %d %v", status, o)
	}
	again, o2 := h.api(t, http.MethodPost, capturePath, "cap-1", nil)
	if again != 201 || dig(o2, "purchase_units", 0, "payments", "captures", 0, "id") != dig(c, "id") || len(h.sim.Captures()) != 1 {
		t.Fatalf("same request id: %d %v", again, o2)
	}
	if status, body := h.api(t, http.MethodPost, capturePath, "cap-2", nil); status != 422 || issue(body) != "ORDER_ALREADY_CAPTURED" {
		t.Fatalf("another request id: %d %v", status, body)
	}
	status, got := h.api(t, http.MethodGet, "/v2/checkout/orders/"+id, "", nil)
	if status != 200 || dig(got, "purchase_units", 0, "payments", "captures", 0, "id") != dig(c, "id") {
		t.Fatalf("get: %d %v", status, got)
	}
	status, cp := h.api(t, http.MethodGet, "/v2/payments/captures/"+dig(c, "id").(string), "", nil)
	if status != 200 || cp["status"] != "COMPLETED" {
		t.Fatalf("get capture: %d %v", status, cp)
	}
	if status, body := h.api(t, http.MethodPost, "/v2/checkout/orders/NOPE/capture", "", nil); status != 404 || body["name"] != "RESOURCE_NOT_FOUND" {
		t.Fatalf("unknown order: %d %v", status, body)
	}
}

func TestCaptureKnobs(t *testing.T) {
	tests := []struct {
		name     string
		set      func(*Simulator)
		status   int
		issue    string
		captures []string // statuses of the captures made
	}{
		{"instrument declined", func(s *Simulator) { s.SetDeclineNext(1) }, 422, "INSTRUMENT_DECLINED", nil},
		{"declined capture", func(s *Simulator) { s.SetDeclinedCaptureNext(1) }, 201, "", []string{"DECLINED"}},
		{"pending capture", func(s *Simulator) { s.SetPendingCaptureNext(1) }, 201, "", []string{"PENDING"}},
		{"double capture", func(s *Simulator) { s.SetDoubleCaptureNext(1) }, 201, "", []string{"COMPLETED", "COMPLETED"}},
		{"lost answer", func(s *Simulator) { s.SetLoseAnswerNext(1) }, 500, "", []string{"COMPLETED"}},
		{"server error", func(s *Simulator) { s.SetFailNext(1) }, 500, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.approvedOrder(t)
			tt.set(h.sim)
			status, body := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "cap-1", nil)
			if status != tt.status || issue(body) != tt.issue {
				t.Fatalf("%d %v, want %d %s", status, body, tt.status, tt.issue)
			}
			var got []string
			for _, c := range h.sim.Captures() {
				got = append(got, c.Status)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.captures) {
				t.Fatalf("captures %v, want %v", got, tt.captures)
			}
			if k := h.sim.Knobs(); k != (Knobs{}) {
				t.Fatalf("knob not used up: %+v", k)
			}
			// Asking again with the same request id gives the capture made, or makes it now.
			status, o := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "cap-1", nil)
			if status != 201 || len(h.sim.Captures()) != max(len(tt.captures), 1) {
				t.Fatalf("again: %d %v, captures %+v", status, o, h.sim.Captures())
			}
		})
	}
}

func TestDroppedAnswer(t *testing.T) {
	h := newHarness(t)
	id := h.approvedOrder(t)
	h.sim.SetDropAnswerNext(1)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v2/checkout/orders/"+id+"/capture", nil)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if resp, err := h.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer %d, want a dropped connection", resp.StatusCode)
	}
	if c := h.sim.Captures(); len(c) != 1 {
		t.Fatalf("captures = %+v, want the capture made", c)
	}
	calls := h.sim.Calls()
	if last := calls[len(calls)-1]; last.Status != 0 || !strings.HasSuffix(last.Path, "/capture") {
		t.Fatalf("last call = %+v", last)
	}
}

func TestLatency(t *testing.T) {
	h := newHarness(t)
	h.sim.SetLatency(300 * time.Millisecond)
	raw, _ := json.Marshal(orderBody())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.srv.URL+"/v2/checkout/orders", strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := h.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d despite the latency", resp.StatusCode)
	}
	time.Sleep(400 * time.Millisecond) // past the latency: a request still waiting would be handled now
	if len(h.sim.Orders()) != 0 {
		t.Fatalf("an order was created by a request the client gave up on")
	}
	h.sim.SetLatency(10 * time.Millisecond)
	if status, _ := h.api(t, http.MethodPost, "/v2/checkout/orders", "", orderBody()); status != 201 {
		t.Fatalf("a patient client: %d", status)
	}
}

func TestRefunds(t *testing.T) {
	h := newHarness(t)
	id := h.approvedOrder(t)
	_, o := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "", nil)
	capID := dig(o, "purchase_units", 0, "payments", "captures", 0, "id").(string)
	path := "/v2/payments/captures/" + capID + "/refund"
	usd := func(v string) map[string]any {
		return map[string]any{"amount": map[string]any{"currency_code": "USD", "value": v}}
	}

	tests := []struct {
		name, requestID string
		body            any
		status          int
		issue           string
		refunded        string
	}{
		{"currency mismatch", "r0", map[string]any{"amount": map[string]any{"currency_code": "EUR", "value": "1.00"}}, 422, "REFUND_CURRENCY_MISMATCH", "0.00"},
		{"amount as a number", "r0", map[string]any{"amount": map[string]any{"currency_code": "USD", "value": 1}}, 400, "MALFORMED_REQUEST_JSON", "0.00"},
		{"partial", "r1", usd("39.20"), 201, "", "39.20"},
		{"partial again (same request id)", "r1", usd("39.20"), 201, "", "39.20"},
		{"more than is left", "r2", usd("50.01"), 422, "REFUND_AMOUNT_EXCEEDED", "39.20"},
		{"the rest (no amount)", "r3", nil, 201, "", "89.20"},
		{"fully refunded", "r4", usd("1.00"), 422, "CAPTURE_FULLY_REFUNDED", "89.20"},
	}
	for _, tt := range tests {
		status, body := h.api(t, http.MethodPost, path, tt.requestID, tt.body)
		if status != tt.status || issue(body) != tt.issue || h.sim.Captures()[0].Refunded != tt.refunded {
			t.Fatalf("%s: %d %v (refunded %s), want %d %s %s", tt.name, status, body, h.sim.Captures()[0].Refunded, tt.status, tt.issue, tt.refunded)
		}
		if status == 201 && (body["status"] != "COMPLETED" || dig(body, "amount", "currency_code") != "USD") {
			t.Fatalf("%s: refund %v", tt.name, body)
		}
	}
	if r := h.sim.Refunds(); len(r) != 2 || r[0].Amount != "39.20" || r[1].Amount != "50.00" || h.sim.Captures()[0].Status != "REFUNDED" {
		t.Fatalf("refunds %+v, capture %+v", r, h.sim.Captures()[0])
	}
	if _, got := h.api(t, http.MethodGet, "/v2/checkout/orders/"+id, "", nil); len(dig(got, "purchase_units", 0, "payments", "refunds").([]any)) != 2 {
		t.Fatalf("the order does not show its refunds: %v", got)
	}
	if status, _ := h.api(t, http.MethodPost, "/v2/payments/captures/NOPE/refund", "", nil); status != 404 {
		t.Fatalf("unknown capture: %d", status)
	}
}

func TestKnobsOverHTTP(t *testing.T) {
	h := newHarness(t)
	post := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/knobs", strings.NewReader(body))
		status, raw := h.send(t, req)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return status, out
	}
	status, k := post(`{"decline_next": 2, "latency": "5ms", "lose_answer_next": 1}`)
	if status != 200 || k["decline_next"] != float64(2) || k["latency"] != "5ms" {
		t.Fatalf("post: %d %v", status, k)
	}
	status, k = post(`{"fail_next": 1}`)
	want := Knobs{DeclineNext: 2, Latency: 5 * time.Millisecond, LoseAnswerNext: 1, FailNext: 1}
	if status != 200 || h.sim.Knobs() != want || k["decline_next"] != float64(2) {
		t.Fatalf("partial update: %d %v, knobs %+v", status, k, h.sim.Knobs())
	}
	for _, bad := range []string{`{"decline_next": -1}`, `{"latency": "soon"}`, `{"unknown": 1}`, `not json`} {
		if status, _ := post(bad); status != 400 {
			t.Errorf("%s: %d, want 400", bad, status)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/__sim/knobs", nil)
	if status, raw := h.send(t, req); status != 200 || !strings.Contains(string(raw), `"fail_next":1`) {
		t.Fatalf("get: %d %s", status, raw)
	}
	req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/__sim/reset", nil)
	if status, _ := h.send(t, req); status != http.StatusNoContent || h.sim.Knobs() != (Knobs{}) {
		t.Fatalf("reset: %d, knobs %+v", status, h.sim.Knobs())
	}
}

func TestStateAndCalls(t *testing.T) {
	h := newHarness(t)
	id := h.approvedOrder(t)
	if status, _ := h.api(t, http.MethodPost, "/v2/checkout/orders/"+id+"/capture", "cap-1", nil); status != 201 {
		t.Fatalf("capture: %d", status)
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/__sim/state", nil)
	status, raw := h.send(t, req)
	var state struct {
		Orders []struct {
			ID, Status, InvoiceID string `json:",omitempty"`
		} `json:"orders"`
		Captures []map[string]any `json:"captures"`
	}
	if err := json.Unmarshal(raw, &state); err != nil || status != 200 || len(state.Orders) != 1 || len(state.Captures) != 1 ||
		state.Captures[0]["order_id"] != id || state.Captures[0]["amount"] != "89.20" {
		t.Fatalf("state: %d %s", status, raw)
	}
	var calls []string
	for _, c := range h.sim.Calls() {
		calls = append(calls, fmt.Sprintf("%s %s %d %s", c.Method, c.Path, c.Status, c.RequestID))
	}
	want := []string{"POST /v1/oauth2/token 200 ", "POST /v2/checkout/orders 201 ", "POST /v2/checkout/orders/" + id + "/capture 201 cap-1"}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("calls = %q, want %q", calls, want)
	}
	h.sim.Reset()
	if len(h.sim.Orders()) != 0 || len(h.sim.Captures()) != 0 || len(h.sim.Calls()) != 0 {
		t.Fatalf("Reset kept state")
	}
	if status, _ := h.api(t, http.MethodGet, "/v2/checkout/orders/"+id, "", nil); status != 404 {
		t.Fatalf("after reset: %d (tokens must survive a reset)", status)
	}
}
