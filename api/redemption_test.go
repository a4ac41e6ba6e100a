package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// stockRecordID returns the stock record id of a SKU.
func (h *harness) stockRecordID(sku string) int64 {
	h.t.Helper()
	body := requireStatus(h.t, h.do("GET", "/api/v2/stockrecords/"+sku+"/", "", nil), http.StatusOK)
	return int64(body["id"].(float64))
}

// coupon creates a coupon for the seat and returns its codes.
func (h *harness) coupon(sku, voucherType string, quantity int, extra map[string]any) []string {
	h.t.Helper()
	body := map[string]any{
		"title": dbtest.Unique("Coupon "), "category": map[string]any{"name": "Course Promotion"},
		"stock_record_ids": []int64{h.stockRecordID(sku)}, "benefit_type": "Percentage", "benefit_value": "20",
		"voucher_type": voucherType, "quantity": quantity,
		"start_datetime": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"end_datetime":   time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
	}
	for k, v := range extra {
		body[k] = v
	}
	created := requireStatus(h.t, h.do("POST", "/api/v2/coupons/", h.token("coupon-staff", true), body), http.StatusCreated)
	id := int64(created["coupon_id"].(float64))
	codes := requireStatus(h.t, h.do("GET", "/api/v2/coupons/"+itoa(id)+"/codes/", h.token("coupon-staff", true), nil), http.StatusOK)
	var out []string
	for _, r := range codes["results"].([]any) {
		out = append(out, r.(map[string]any)["code"].(string))
	}
	return out
}

// racingCheckouts gives n new users a basket with the SKU (and the code, if any) and checks
// them all out at once; it returns the statuses and the baskets.
func (h *harness) racingCheckouts(n int, sku, code string) ([]int, []int64) {
	h.t.Helper()
	ids := make([]int64, n)
	toks := make([]string, n)
	for i := range n {
		ids[i], toks[i] = h.basketFor(dbtest.Unique("racer-"), sku)
		if code != "" {
			requireStatus(h.t, h.do("POST", "/api/v2/baskets/"+itoa(ids[i])+"/vouchers/", toks[i], map[string]any{"code": code}), http.StatusOK)
		}
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = h.do("POST", "/api/v2/checkout/", toks[i], map[string]any{"basket_id": ids[i]}).Code
		})
	}
	close(start)
	wg.Wait()
	return statuses, ids
}

func countOf(statuses []int, code int) int {
	n := 0
	for _, s := range statuses {
		if s == code {
			n++
		}
	}
	return n
}

func TestSingleUseCodeRedeemedOnceUnderFiftyConcurrentCheckouts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Race")+"+2026", "50.00")
	code := h.coupon(skus["verified"], "Single use", 1, nil)[0]

	statuses, ids := h.racingCheckouts(50, skus["verified"], code)
	require.Equal(t, 1, countOf(statuses, http.StatusOK), "exactly one checkout keeps the code: %v", statuses)
	require.Equal(t, 49, countOf(statuses, http.StatusConflict), "the others get a clear 409 before paying: %v", statuses)
	require.Equal(t, 1, h.count("SELECT count(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.code = $1 AND r.status = 'Reserved'", code))
	for i, id := range ids {
		if statuses[i] == http.StatusOK {
			require.Equal(t, 1, h.count("SELECT count(*) FROM checkouts WHERE basket_id = $1 AND (snapshot->>'total')::numeric = 40.00", id), "charged the discounted price")
		} else {
			require.Equal(t, 1, h.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Open'", id), "a refused checkout changes nothing")
		}
	}
	loser := ids[0]
	if statuses[0] == http.StatusOK {
		loser = ids[1]
	}
	body := requireStatus(t, h.do("GET", "/api/v2/baskets/"+itoa(loser)+"/", h.token("support", true), nil), http.StatusOK)
	require.Equal(t, "Open", body["status"])
}

func TestMultiUseCodeWithMaxUsesUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+RaceMax")+"+2026", "50.00")
	code := h.coupon(skus["verified"], "Multi-use", 1, map[string]any{"max_uses": 3})[0]
	statuses, _ := h.racingCheckouts(20, skus["verified"], code)
	require.Equal(t, 3, countOf(statuses, http.StatusOK), "%v", statuses)
	require.Equal(t, 17, countOf(statuses, http.StatusConflict), "%v", statuses)
}

func TestSiteOfferLimitsHoldUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staff := h.token("offer-staff", true)
	skus := h.publish(dbtest.Unique("course-v1:edX+RaceSite")+"+2026", "50.00")
	product := requireStatus(t, h.do("GET", "/api/v2/stockrecords/"+skus["verified"]+"/", "", nil), http.StatusOK)["product"]

	t.Run("MaxGlobalApplications", func(t *testing.T) {
		requireStatus(t, h.do("POST", "/api/v2/offers/", staff, map[string]any{
			"name": dbtest.Unique("first buyer "), "benefit_type": "Absolute", "benefit_value": "10.00",
			"range": map[string]any{"product_ids": []any{product}}, "max_global_applications": 1, "priority": 5,
		}), http.StatusCreated)
		statuses, ids := h.racingCheckouts(15, skus["verified"], "")
		require.Equal(t, 15, countOf(statuses, http.StatusOK), "site offers never refuse a checkout: %v", statuses)
		discounted := 0
		for _, id := range ids {
			discounted += h.count("SELECT count(*) FROM checkouts WHERE basket_id = $1 AND (snapshot->>'total')::numeric = 40.00", id)
		}
		require.Equal(t, 1, discounted, "exactly one checkout got the single application")
	})
}

func TestMaxDiscountBudgetHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	staff := h.token("budget-staff", true)
	skus := h.publish(dbtest.Unique("course-v1:edX+Budget")+"+2026", "50.00")
	product := requireStatus(t, h.do("GET", "/api/v2/stockrecords/"+skus["verified"]+"/", "", nil), http.StatusOK)["product"]
	requireStatus(t, h.do("POST", "/api/v2/offers/", staff, map[string]any{
		"name": dbtest.Unique("budget "), "benefit_type": "Absolute", "benefit_value": "10.00",
		"range": map[string]any{"product_ids": []any{product}}, "max_discount": "25.00",
	}), http.StatusCreated)
	statuses, ids := h.racingCheckouts(12, skus["verified"], "")
	require.Equal(t, 12, countOf(statuses, http.StatusOK))
	total := 0
	for _, id := range ids {
		total += h.count("SELECT coalesce(sum(amount), 0)::int FROM redemptions WHERE basket_id = $1", id)
	}
	require.Equal(t, 25, total, "the budget is given out exactly once: 10 + 10 + 5")
}

func TestExpiredCheckoutReleasesTheCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	skus := h.publish(dbtest.Unique("course-v1:edX+Release")+"+2026", "50.00")
	code := h.coupon(skus["verified"], "Single use", 1, nil)[0]
	statuses, ids := h.racingCheckouts(1, skus["verified"], code)
	require.Equal(t, []int{http.StatusOK}, statuses)

	second, tok := h.basketFor(dbtest.Unique("second-"), skus["verified"])
	body := requireStatus(t, h.do("POST", "/api/v2/baskets/"+itoa(second)+"/vouchers/", tok, map[string]any{"code": code}), http.StatusBadRequest)
	require.Equal(t, "Coupon code '"+code+"' is not available. This voucher has already been used", body["developer_message"])

	// The first checkout's payment expires: the reservation is released.
	_, err := h.store.ReopenBasket(context.Background(), ids[0])
	require.NoError(t, err)
	requireStatus(t, h.do("POST", "/api/v2/baskets/"+itoa(second)+"/vouchers/", tok, map[string]any{"code": code}), http.StatusOK)
	requireStatus(t, h.do("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": second}), http.StatusOK)

	t.Run("PlacingTheOrderConsumesIt", func(t *testing.T) {
		co, _, err := h.store.CheckoutByOrderNumber(context.Background(), commerce.OrderNumber("EDX", second))
		require.NoError(t, err)
		require.Equal(t, "40.00", commerce.FormatMoney(co.Total))
		require.Equal(t, code, co.VoucherCode)
		_, _, err = h.store.PlaceOrder(context.Background(), co, &commerce.Payment{Processor: "cybersource", TransactionID: "T-" + code, Amount: co.Total, Currency: "USD"})
		require.NoError(t, err)
		order := requireStatus(t, h.do("GET", "/api/v2/orders/"+co.OrderNumber+"/", tok, nil), http.StatusOK)
		require.Equal(t, "10.00", order["discount"])
		require.Equal(t, "40.00", order["total_excl_tax"])
		require.Equal(t, code, order["vouchers"].([]any)[0].(map[string]any)["code"])
		require.Equal(t, "10.00", order["basket_discounts"].([]any)[0].(map[string]any)["amount"])
		require.Equal(t, 1, h.count("SELECT count(*) FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id WHERE v.code = $1 AND r.status = 'Consumed'", code))
		require.Equal(t, 1, h.count("SELECT num_orders FROM vouchers WHERE code = $1", code))
		require.Equal(t, 1, h.count("SELECT count(*) FROM voucher_applications a JOIN vouchers v ON v.id = a.voucher_id WHERE v.code = $1", code))
		require.Equal(t, 1, h.count("SELECT count(*) FROM order_discounts WHERE voucher_code = $1 AND amount = 10.00", code))
	})
}
