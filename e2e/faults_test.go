package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/payment/cybersource"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/require"
)

// The fault suite (make faults) buys seats while something breaks and then counts, for each
// scenario, the purchases lost (paid, or free and accepted, but not fulfilled) and duplicated
// (an order, a payment event or a voucher redemption beyond the one bought; for forged
// messages, any order a forgery placed). It runs only when FAULT_RUNS is set: the number of
// purchases per scenario. FAULT_LMS_DOWN is how long the LMS is down (default 2m), and
// FAULT_REPORT a file each scenario appends its line to: `scenario runs N lost N duplicated N`.

// faultRuns is the purchases per scenario, or skips the test when the suite was not asked for.
func faultRuns(t *testing.T) int {
	t.Helper()
	v := os.Getenv("FAULT_RUNS")
	if v == "" {
		t.Skip("the fault suite runs with FAULT_RUNS set (make faults)")
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "FAULT_RUNS")
	require.Positive(t, n, "FAULT_RUNS")
	return n
}

// faultReport writes a scenario's line to stdout and FAULT_REPORT, then fails the test unless
// nothing was lost or duplicated.
func faultReport(t *testing.T, scenario string, runs, lost, duplicated int) {
	t.Helper()
	line := fmt.Sprintf("%-34s runs %4d lost %d duplicated %d\n", scenario, runs, lost, duplicated)
	fmt.Print(line)
	if path := os.Getenv("FAULT_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		require.NoError(t, err)
		_, err = f.WriteString(line)
		require.NoError(t, f.Close())
		require.NoError(t, err)
	}
	require.Zero(t, lost, scenario+": lost")
	require.Zero(t, duplicated, scenario+": duplicated")
}

// purchase is one learner's seat bought in a fault scenario.
type purchase struct {
	user, course, number string
	basket               basketResponse
	reply                map[string]string // the processor's signed reply, when paid
}

// startPurchases publishes a seat per learner and checks n learners out, at most 10 at a time.
func (s *stack) startPurchases(n int, prefix string) []*purchase {
	s.t.Helper()
	ps := make([]*purchase, n)
	skus := make(map[*purchase]string, n)
	for i := range ps {
		course, sku := s.publishSeat("20.00")
		ps[i] = &purchase{user: fmt.Sprintf("%s-%d", prefix, i), course: course}
		skus[ps[i]] = sku
	}
	s.each(ps, 10, func(p *purchase) {
		p.basket = s.checkout(p.user, skus[p])
		p.number = s.orderNumber(p.basket)
	})
	return ps
}

// each runs f for every purchase, at most width at a time.
func (s *stack) each(ps []*purchase, width int, f func(*purchase)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, width)
	for _, p := range ps {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			f(p)
		})
	}
	wg.Wait()
}

// payAll has the processor accept each purchase's payment, 10 at a time, and keeps the signed
// reply. The simulator notifies the service itself, unless told SetSkipNotify(true).
func (s *stack) payAll(ps []*purchase) {
	s.t.Helper()
	s.each(ps, 10, func(p *purchase) { s.payAccepted(p, p.basket.PaymentData.PaymentFormData) })
}

// payAccepted pays p's signed form at the CyberSource simulator and keeps its ACCEPT reply in
// p.reply; anything else fails the test and reports false.
func (s *stack) payAccepted(p *purchase, form map[string]string) bool {
	res, err := s.cs.Pay(context.Background(), form, cybersim.ActionPay)
	if err == nil && res.Reply["decision"] != "ACCEPT" {
		err = fmt.Errorf("decision %q", res.Reply["decision"])
	}
	if err != nil {
		s.t.Errorf("pay %s: %v", p.number, err)
		return false
	}
	p.reply = res.Reply
	return true
}

// paidButNotNotified checks out FAULT_RUNS learners on a new stack and has the processor accept
// their payments without notifying the service: the test delivers the replies itself.
func paidButNotNotified(t *testing.T, prefix string) (*stack, []*purchase) {
	t.Helper()
	runs := faultRuns(t)
	s := newStack(t, stackOptions{})
	s.cs.SetSkipNotify(true)
	ps := s.startPurchases(runs, prefix)
	s.payAll(ps)
	return s, ps
}

// tally waits until every purchase is fulfilled or the deadline passes, then counts the ones
// lost (not Complete, or not enrolled) and the duplicates (orders per basket and payment events
// per order beyond one).
func (s *stack) tally(ps []*purchase, within time.Duration) (lost, duplicated int) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for _, p := range ps {
		for time.Now().Before(deadline) && !s.fulfilled(p) {
			time.Sleep(200 * time.Millisecond)
		}
		if !s.fulfilled(p) {
			lost++
			s.t.Logf("lost: %s (%s): orders %d, checkout %+v", p.number, p.user,
				s.count("SELECT count(*) FROM orders WHERE number = $1 AND status = 'Complete'", p.number), s.statusOrZero(p.number))
		}
		duplicated += max(s.count("SELECT count(*) FROM orders WHERE basket_id = $1", p.basket.ID)-1, 0)
		duplicated += max(s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", p.number)-1, 0)
	}
	return lost, duplicated
}

// fulfilled reports whether the purchase's order is Complete and its learner enrolled.
func (s *stack) fulfilled(p *purchase) bool {
	if s.count("SELECT count(*) FROM orders WHERE number = $1 AND status = 'Complete'", p.number) != 1 {
		return false
	}
	_, ok := s.lms.Enrollment(p.user, p.course)
	return ok
}

// statusOrZero is the checkout's status query, or the zero status when it cannot be asked.
func (s *stack) statusOrZero(number string) workflows.Status {
	var st workflows.Status
	v, err := s.temporal.QueryWorkflow(context.Background(), workflows.CheckoutWorkflowID(number), "", workflows.QueryStatus)
	if err == nil {
		_ = v.Get(&st)
	}
	return st
}

// TestFaultWorkerKilled kills the worker process with SIGKILL at random moments while learners
// pay and until every order is complete, and starts it again each time.
func TestFaultWorkerKilled(t *testing.T) {
	runs := faultRuns(t)
	// The service's default retry limit (FULFILLMENT_RETRY_LIMIT): each kill costs a running
	// enrollment its 12 s start-to-close timeout, and the tests' 1 minute would hand to ops.
	s := newStack(t, stackOptions{externalWorker: true, retryLimit: time.Hour})
	ps := s.startPurchases(runs, "killed")
	s.lms.SetLatency(100 * time.Millisecond) // so that kills land in enrollments too
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.payAll(ps)
	}()
	// Kill while learners pay and until every purchase is fulfilled (or 2 minutes have passed),
	// so the kills land in signals, order placement and enrollment alike.
	kills, paying := 0, true
	for until := time.Now().Add(2 * time.Minute); time.Now().Before(until); {
		select {
		case <-done:
			paying = false
			done = nil
		case <-time.After(time.Duration(100+rand.IntN(900)) * time.Millisecond):
			if !paying && s.count("SELECT count(*) FROM orders WHERE number = ANY($1) AND status = 'Complete'", numbers(ps)) == runs {
				until = time.Now()
				continue
			}
			s.killWorkerProcess()
			kills++
			time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
			s.startWorkerProcess()
		}
	}
	if done != nil {
		<-done
	}
	// An enrollment retried through the kills may be backing off up to 2 minutes by now.
	lost, duplicated := s.tally(ps, 5*time.Minute)
	require.Positive(t, kills, "the worker was never killed")
	faultReport(t, fmt.Sprintf("worker killed -9 at random (%dx)", kills), runs, lost, duplicated)
}

// TestFaultLMSDown keeps the LMS answering 500 while learners pay; every learner is enrolled
// once it is back.
func TestFaultLMSDown(t *testing.T) {
	runs := faultRuns(t)
	down, err := time.ParseDuration(envOr("FAULT_LMS_DOWN", "2m"))
	require.NoError(t, err, "FAULT_LMS_DOWN")
	s := newStack(t, stackOptions{retryLimit: 2*down + 10*time.Minute})
	ps := s.startPurchases(runs, "lmsdown")
	s.lms.FailNext(1 << 30)
	outage := time.Now()
	s.payAll(ps)
	time.Sleep(time.Until(outage.Add(down)))
	require.Empty(t, s.lms.Enrollments(), "no enrollment while the LMS is down")
	s.lms.FailNext(0)
	// The enrollment retries back off up to twice the outage (1 s, x2).
	lost, duplicated := s.tally(ps, 2*down+2*time.Minute)
	faultReport(t, "LMS down "+down.String(), runs, lost, duplicated)
}

// TestFaultCallbacksRepeatedAndOutOfOrder delivers every signed reply five times to the
// notification endpoint and once to the browser redirect, all purchases' messages shuffled
// together and sent 20 at a time.
func TestFaultCallbacksRepeatedAndOutOfOrder(t *testing.T) {
	s, ps := paidButNotNotified(t, "repeated")
	runs := len(ps)
	type delivery struct {
		path  string
		reply map[string]string
	}
	var deliveries []delivery
	for _, p := range ps {
		for range 5 {
			deliveries = append(deliveries, delivery{"/payment/cybersource/notify/", p.reply})
		}
		deliveries = append(deliveries, delivery{"/payment/cybersource/redirect/", p.reply})
	}
	rand.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	var wg sync.WaitGroup
	slots := make(chan struct{}, 20)
	for _, d := range deliveries {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if code := s.postReply(s.apiURL+d.path, d.reply).StatusCode; code != http.StatusOK && code != http.StatusSeeOther {
				t.Errorf("%s for %s answered %d", d.path, d.reply["req_reference_number"], code)
			}
		})
	}
	wg.Wait()
	lost, duplicated := s.tally(ps, 2*time.Minute)
	faultReport(t, "callbacks 5x concurrent, shuffled", runs, lost, duplicated)
}

// TestFaultForgedAndTamperedCallbacks sends, for every purchase, a reply with its amount
// tampered, the learner's own signed payment form posted back as a reply, and a reply signed
// with another key, to both callback endpoints; each is refused with 400 and recorded, or, past the
// budget for messages that are not authentic, with 429 and not recorded, and places nothing. The
// genuine replies, sent while that budget is spent, then place every order.
func TestFaultForgedAndTamperedCallbacks(t *testing.T) {
	s, ps := paidButNotNotified(t, "forged")
	runs := len(ps)
	var mu sync.Mutex
	refused := map[int]int{}
	s.each(ps, 10, func(p *purchase) {
		tampered := maps.Clone(p.reply)
		tampered["req_amount"], tampered["auth_amount"] = "0.01", "0.01"
		ownForm := maps.Clone(p.basket.PaymentData.PaymentFormData)
		maps.Copy(ownForm, map[string]string{"decision": "ACCEPT", "reason_code": "100", "transaction_id": "6" + randomHex(9),
			"req_reference_number": p.number, "req_amount": ownForm["amount"], "req_currency": "USD", "auth_amount": ownForm["amount"]})
		otherKey := maps.Clone(p.reply)
		otherKey["signature"] = cybersource.SignFields(otherKey, "not-the-profile-secret")
		for _, forged := range []map[string]string{tampered, ownForm, otherKey} {
			for _, path := range []string{"/payment/cybersource/notify/", "/payment/cybersource/redirect/"} {
				code := s.postReply(s.apiURL+path, forged).StatusCode
				if code != http.StatusBadRequest && code != http.StatusTooManyRequests {
					t.Errorf("forged reply for %s via %s answered %d", p.number, path, code)
				}
				mu.Lock()
				refused[code]++
				mu.Unlock()
			}
		}
	})
	time.Sleep(time.Second)
	forgedOrders := s.count("SELECT count(*) FROM orders WHERE number = ANY($1)", numbers(ps))
	t.Logf("forgeries answered: %v", refused)
	require.Equal(t, refused[http.StatusBadRequest], s.count("SELECT count(*) FROM payment_processor_responses WHERE NOT authentic AND order_number = ANY($1)", numbers(ps)),
		"every forgery answered 400 is recorded")
	s.each(ps, 10, func(p *purchase) {
		if code := s.postReply(s.apiURL+"/payment/cybersource/notify/", p.reply).StatusCode; code != http.StatusOK {
			t.Errorf("genuine reply for %s answered %d", p.number, code)
		}
	})
	lost, duplicated := s.tally(ps, 2*time.Minute)
	faultReport(t, "forged and tampered callbacks", runs, lost, duplicated+forgedOrders)
}

func numbers(ps []*purchase) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.number
	}
	return out
}

// TestFaultSingleUseVoucherRace has 50 learners redeem one single-use 100% voucher at once:
// exactly one order uses it.
func TestFaultSingleUseVoucherRace(t *testing.T) {
	faultRuns(t)
	const learners = 50
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("40.00")
	_, code := s.coupon(sku, "Single use", "100")
	ps := make([]*purchase, learners)
	for i := range ps {
		ps[i] = &purchase{user: fmt.Sprintf("voucher-%d", i)}
	}
	s.each(ps, learners, func(p *purchase) {
		tok := s.token(p.user, false)
		if code := s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": sku}}}, &p.basket); code != http.StatusOK {
			t.Errorf("basket for %s answered %d", p.user, code)
			return
		}
		p.number = s.orderNumber(p.basket)
		if s.call("POST", "/api/v2/baskets/"+itoa(p.basket.ID)+"/vouchers/", tok, map[string]any{"code": code}, nil) != http.StatusOK {
			return // refused: already used
		}
		s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": p.basket.ID}, nil)
	})
	var redemptions int
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		redemptions = s.count("SELECT count(*) FROM voucher_applications a JOIN vouchers v ON v.id = a.voucher_id WHERE v.code = $1", code)
		if redemptions > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let any late placement land
	redemptions = s.count("SELECT count(*) FROM voucher_applications a JOIN vouchers v ON v.id = a.voucher_id WHERE v.code = $1", code)
	placed := s.count("SELECT count(*) FROM orders WHERE number = ANY($1)", numbers(ps))
	t.Logf("redemptions %d, orders placed %d", redemptions, placed)
	lost := 0
	if redemptions == 0 {
		lost = 1
	}
	faultReport(t, "single-use voucher, 50 at once", learners, lost, max(redemptions-1, 0)+max(placed-1, 0))
}
