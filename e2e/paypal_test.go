package e2e_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/stretchr/testify/require"
)

// checkoutWith freezes the user's basket of skus with a processor and returns the basket id and
// the checkout's answer.
func (s *stack) checkoutWith(user, processor string, skus ...string) (int64, map[string]any) {
	s.t.Helper()
	tok := s.token(user, false)
	var basket basketResponse
	products := []any{}
	for _, sku := range skus {
		products = append(products, map[string]any{"sku": sku})
	}
	require.Equal(s.t, http.StatusOK, s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": products}, &basket))
	var out map[string]any
	require.Equal(s.t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": basket.ID, "payment_processor": processor}, &out))
	return basket.ID, out
}

// browserGet follows nothing: it returns the answer to one navigation.
func browserGet(t *testing.T, target string) *http.Response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(target)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// paypalToken reads the PayPal order id from an approval URL.
func paypalToken(t testing.TB, approveURL string) string {
	t.Helper()
	u, err := url.Parse(approveURL)
	require.NoError(t, err)
	id := u.Query().Get("token")
	require.NotEmpty(t, id, approveURL)
	return id
}

// A learner pays with PayPal (Orders v2): the checkout answers PayPal's approval page; after
// approval PayPal sends the browser to /payment/paypal/execute/ (here twice at once, as a double
// click or a reload would): the payment is captured once, one order is placed and fulfilled, and
// every PayPal exchange is recorded.
func TestPayPalPurchaseIsCapturedOnceAndFulfilled(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("79.00")
	basketID, out := s.checkoutWith("paypal-learner", "paypal", sku)
	require.Equal(t, "paypal", out["payment_processor"])
	page, _ := out["payment_page_url"].(string)
	require.True(t, strings.HasPrefix(page, s.ppURL+"/checkoutnow?token="), page)
	id := paypalToken(t, page)
	number := commerce.OrderNumber(s.partner, basketID)

	// Asking again gives the same PayPal order.
	var second map[string]any
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", s.token("paypal-learner", false),
		map[string]any{"basket_id": basketID, "payment_processor": "paypal"}, &second))
	require.Equal(t, page, second["payment_page_url"])

	back, err := s.pp.Approve(id)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(back, s.apiURL+"/payment/paypal/execute/?"), back)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	locations := make([]string, 2)
	for i := range codes {
		wg.Go(func() {
			resp := browserGet(t, back)
			codes[i], locations[i] = resp.StatusCode, resp.Header.Get("Location")
		})
	}
	wg.Wait()
	require.Equal(t, []int{http.StatusSeeOther, http.StatusSeeOther}, codes)
	for _, l := range locations {
		require.Equal(t, s.apiURL+"/checkout/receipt/?order_number="+number, l)
	}
	s.waitForOrder("paypal-learner", number, "Complete")
	require.Len(t, s.pp.Captures(), 1, "captured once")
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1 AND e.processor_name = 'paypal'", number))
	_, ok := s.lms.Enrollment("paypal-learner", course)
	require.True(t, ok)
	require.Len(t, s.lms.Enrollments(), 1)
	require.GreaterOrEqual(t, s.count("SELECT count(*) FROM payment_processor_responses WHERE processor_name = 'paypal' AND order_number = $1 AND kind = 'create-order'", number), 1)
	require.GreaterOrEqual(t, s.count("SELECT count(*) FROM payment_processor_responses WHERE processor_name = 'paypal' AND transaction_id = $1 AND kind = 'execute'", id), 2)
	require.Zero(t, s.count("SELECT count(*) FROM payment_processor_responses WHERE processor_name = 'paypal' AND response::text LIKE '%e2e-paypal-secret%'"))

	// The browser lands on the receipt with the LMS's JWT cookies: the order and its enrollment.
	page2 := s.browserPage("paypal-learner", s.apiURL+"/checkout/receipt/?order_number="+number)
	require.Contains(t, page2, number)
	require.Contains(t, page2, `<strong id="order-status">Complete</strong>`)
	require.Contains(t, page2, "79.00 USD")
}

// browserPage loads a page as the user's browser does: JWT cookies, HTML accepted.
func (s *stack) browserPage(user, target string) string {
	s.t.Helper()
	tok := s.token(user, false)
	i := strings.LastIndexByte(tok, '.')
	req, err := http.NewRequest("GET", target, nil)
	require.NoError(s.t, err)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-header-payload", Value: tok[:i]})
	req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-signature", Value: tok[i+1:]})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, string(body))
	return string(body)
}

// The learner cancels at PayPal: the checkout ends and the learner has an open basket again.
func TestPayPalCancelGivesTheBasketBack(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("19.00")
	basketID, out := s.checkoutWith("paypal-canceller", "paypal", sku)
	id := paypalToken(t, out["payment_page_url"].(string))
	number := commerce.OrderNumber(s.partner, basketID)
	back, err := s.pp.Cancel(id)
	require.NoError(t, err)
	resp := browserGet(t, back)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), s.apiURL+"/checkout/cancel-checkout/?order_number="+number), resp.Header.Get("Location"))
	st := s.waitForState(number, commerce.CheckoutPaymentDeclined)
	require.NotZero(t, st.NewBasketID)
	require.Equal(t, 1, s.count("SELECT count(*) FROM basket_lines WHERE basket_id = $1", st.NewBasketID))
	require.Zero(t, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Empty(t, s.pp.Captures())
}

// A return for a PayPal order nobody created, or without a token, changes nothing.
func TestPayPalReturnForAnUnknownOrderIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	require.Equal(t, http.StatusBadRequest, browserGet(t, s.apiURL+"/payment/paypal/execute/?token=NOPE123&PayerID=X").StatusCode)
	require.Equal(t, http.StatusBadRequest, browserGet(t, s.apiURL+"/payment/paypal/execute/").StatusCode)
	require.Equal(t, http.StatusBadRequest, browserGet(t, s.apiURL+"/payment/paypal/execute/?token=a%2Cb").StatusCode)
}

// A free basket is checked out by navigation (the payment page's link, JWT cookies, no
// headers): the order is placed through its workflow and the browser lands on the receipt.
func TestFreeCheckoutByNavigation(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("0.00")
	var basket basketResponse
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", s.token("free-nav", false),
		map[string]any{"products": []any{map[string]any{"sku": sku}}}, &basket))
	tok := s.token("free-nav", false)
	i := strings.LastIndexByte(tok, '.')
	req, err := http.NewRequest("GET", s.apiURL+"/checkout/free-checkout/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-header-payload", Value: tok[:i]})
	req.AddCookie(&http.Cookie{Name: "edx-jwt-cookie-signature", Value: tok[i+1:]})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	number := commerce.OrderNumber(s.partner, basket.ID)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, s.apiURL+"/checkout/receipt/?order_number="+number, resp.Header.Get("Location"))
	s.waitForOrder("free-nav", number, "Complete")
	_, ok := s.lms.Enrollment("free-nav", course)
	require.True(t, ok)
	require.Contains(t, s.browserPage("free-nav", resp.Header.Get("Location")), "Complete")
}

// A cancel link can never drop money (review of issue 8): after the buyer approved, the cancel
// return completes the payment instead of ending the checkout; with a capture PENDING at PayPal
// the checkout keeps waiting for ops and the basket is not given back.
func TestPayPalCancelAfterApprovalNeverDropsThePayment(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})

	t.Run("Approved", func(t *testing.T) {
		_, sku := s.publishSeat("29.00")
		basketID, out := s.checkoutWith("cancel-after-approve", "paypal", sku)
		id := paypalToken(t, out["payment_page_url"].(string))
		number := commerce.OrderNumber(s.partner, basketID)
		_, err := s.pp.Approve(id)
		require.NoError(t, err)
		cancel, err := s.pp.Cancel(id)
		require.NoError(t, err)
		resp := browserGet(t, cancel)
		require.Equal(t, s.apiURL+"/checkout/receipt/?order_number="+number, resp.Header.Get("Location"))
		s.waitForOrder("cancel-after-approve", number, "Complete")
		require.Len(t, s.pp.Captures(), 1)
		st := s.status(number)
		require.Zero(t, st.NewBasketID, "no basket given back")
	})
	t.Run("CapturePending", func(t *testing.T) {
		_, sku := s.publishSeat("31.00")
		basketID, out := s.checkoutWith("cancel-pending", "paypal", sku)
		id := paypalToken(t, out["payment_page_url"].(string))
		number := commerce.OrderNumber(s.partner, basketID)
		back, err := s.pp.Approve(id)
		require.NoError(t, err)
		s.pp.SetPendingCaptureNext(1)
		browserGet(t, back)
		s.needsAttention(number)
		cancel, err := s.pp.Cancel(id)
		require.NoError(t, err)
		browserGet(t, cancel)
		s.needsAttention(number)
		st := s.status(number)
		require.Zero(t, st.NewBasketID, "the basket is not given back while money may be taken")
		require.Zero(t, s.count("SELECT count(*) FROM checkouts WHERE order_number = $1 AND status = 'PaymentDeclined'", number))
	})
}
