package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	cybersim "github.com/coursecommerce/commerce/simulators/cybersource"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
)

func TestPaidSeatIsEnrolledOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("49.00")
	b := s.checkout("learner", sku)
	require.Equal(t, "cybersource", b.PaymentData.PaymentProcessorName)
	require.Equal(t, s.csURL+"/pay", b.PaymentData.PaymentPageURL)
	require.Equal(t, "49.00", b.PaymentData.PaymentFormData["amount"])
	number := s.orderNumber(b)
	require.Equal(t, number, b.PaymentData.PaymentFormData["reference_number"])

	_, redirect := s.pay(b, cybersim.ActionPay)
	require.Equal(t, http.StatusSeeOther, redirect.StatusCode)
	require.Equal(t, s.apiURL+"/checkout/receipt/?order_number="+number, redirect.Header.Get("Location"))

	order := s.waitForOrder("learner", number, "Complete")
	require.Equal(t, "Complete", order.Lines[0].Status)
	e, ok := s.lms.Enrollment("learner", course)
	require.True(t, ok)
	require.Equal(t, "verified", e.Mode)
	require.True(t, e.IsActive)
	v, _ := e.Attribute("order", "order_number")
	require.Equal(t, number, v)
	require.Len(t, s.lms.Enrollments(), 1)
	require.Equal(t, 1, s.lms.Calls())

	st := s.waitForState(number, commerce.CheckoutFulfilled)
	require.Equal(t, "49.00", st.Payment.Amount)
	require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
	require.Equal(t, 2, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND authentic", number), "notification and redirect recorded")
	require.Equal(t, 1, s.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Submitted'", b.ID))

	// Operations staff find it by its search attributes.
	query := fmt.Sprintf("OrderNumber = '%s' AND CheckoutStatus = 'Fulfilled' AND Username = 'learner' AND PaymentProcessor = 'cybersource' AND BasketId = '%d'", number, b.ID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := s.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if assert.NoError(c, err) {
			assert.Equal(c, int64(1), resp.Count)
		}
	}, 20*time.Second, 200*time.Millisecond)

	// Asking to check out the submitted basket again starts nothing new.
	var again map[string]any
	status := s.call("POST", "/api/v2/checkout/", s.token("learner", false), map[string]any{"basket_id": b.ID, "payment_processor": "cybersource"}, &again)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
}

func TestLMSFailingThreeTimesThenRecoveringEnrollsOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("10.00")
	s.lms.FailNext(3)
	b := s.checkout("retry-learner", sku)
	number := s.orderNumber(b)
	s.pay(b, cybersim.ActionPay)
	s.waitForOrder("retry-learner", number, "Complete")
	require.Equal(t, 4, s.lms.Calls(), "three failures and one success")
	require.Len(t, s.lms.Enrollments(), 1)
	_, ok := s.lms.Enrollment("retry-learner", course)
	require.True(t, ok)
	require.Equal(t, 4, s.count("SELECT fulfillment_attempts FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.number = $1", number))
}

func TestSameNotificationThreeTimesConcurrentlyGivesOnePaymentAndOneOrder(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("25.00")
	s.cs.SetSkipNotify(true)
	b := s.checkout("dup-learner", sku)
	number := s.orderNumber(b)
	res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, cybersim.ActionPay)
	require.NoError(t, err)
	require.Equal(t, "ACCEPT", res.Reply["decision"])

	var wg sync.WaitGroup
	codes := make([]int, 3)
	for i := range codes {
		wg.Go(func() { codes[i] = s.postReply(s.apiURL+"/payment/cybersource/notify/", res.Reply).StatusCode })
	}
	wg.Wait()
	require.Equal(t, []int{200, 200, 200}, codes)
	s.waitForOrder("dup-learner", number, "Complete")

	// A late replay after fulfillment changes nothing either.
	require.Equal(t, 200, s.postReply(s.apiURL+"/payment/cybersource/notify/", res.Reply).StatusCode)
	require.Equal(t, 4, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1", number), "every message recorded")
	require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Equal(t, 1, s.lms.Calls())
}

func TestForgedSignatureIsRecordedAndRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("30.00")
	s.cs.SetSkipNotify(true)
	b := s.checkout("forger", sku)
	number := s.orderNumber(b)
	res, err := s.cs.Pay(context.Background(), b.PaymentData.PaymentFormData, cybersim.ActionPay)
	require.NoError(t, err)
	forged := map[string]string{}
	for k, v := range res.Reply {
		forged[k] = v
	}
	forged["req_amount"] = "0.01"
	forged["auth_amount"] = "0.01"

	require.Equal(t, http.StatusBadRequest, s.postReply(s.apiURL+"/payment/cybersource/notify/", forged).StatusCode)
	require.Equal(t, http.StatusBadRequest, s.postReply(s.apiURL+"/payment/cybersource/redirect/", forged).StatusCode)
	require.Equal(t, 2, s.count("SELECT count(*) FROM payment_processor_responses WHERE order_number = $1 AND NOT authentic", number))
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Equal(t, commerce.CheckoutAwaitingPayment, s.status(number).State)
}

func TestWorkerKilledAfterPaymentPlacesTheOrderOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{externalWorker: true})
	course, sku := s.publishSeat("99.00")
	b := s.checkout("crash-learner", sku)
	number := s.orderNumber(b)
	s.waitForState(number, commerce.CheckoutAwaitingPayment)

	s.killWorkerProcess()
	_, redirect := s.pay(b, cybersim.ActionPay)
	require.Equal(t, http.StatusSeeOther, redirect.StatusCode, "the payment is accepted and recorded while no worker runs")
	time.Sleep(time.Second)
	require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", number))

	s.startWorkerProcess()
	s.waitForOrder("crash-learner", number, "Complete")
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
	require.Len(t, s.lms.Enrollments(), 1)
	_, ok := s.lms.Enrollment("crash-learner", course)
	require.True(t, ok)
}

func TestWorkerKilledDuringEnrollmentEnrollsOnce(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{externalWorker: true})
	_, sku := s.publishSeat("15.00")
	s.lms.SetLatency(3 * time.Second)
	b := s.checkout("crash-enroll", sku)
	number := s.orderNumber(b)
	s.pay(b, cybersim.ActionPay)
	require.Eventually(t, func() bool { return s.lms.Calls() >= 1 }, 30*time.Second, 50*time.Millisecond, "enrollment started")
	s.killWorkerProcess()
	s.lms.SetLatency(0)
	s.startWorkerProcess()
	s.waitForOrder("crash-enroll", number, "Complete")
	require.Equal(t, 1, s.count("SELECT count(*) FROM orders WHERE number = $1", number))
	require.Len(t, s.lms.Enrollments(), 1, "a retried enrollment is the same enrollment")
}

func TestPaymentTimeoutExpiresAndGivesAFreshBasket(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{paymentTimeout: 2 * time.Second})
	_, sku := s.publishSeat("12.00")
	b := s.checkout("slow-payer", sku)
	number := s.orderNumber(b)
	st := s.waitForState(number, commerce.CheckoutPaymentExpired)
	require.NotZero(t, st.NewBasketID)
	require.NotEqual(t, b.ID, st.NewBasketID, "the frozen basket and its order number are never reused")
	require.Equal(t, 1, s.count("SELECT count(*) FROM baskets WHERE id = $1 AND status = 'Frozen'", b.ID))
	require.Equal(t, 1, s.count(`SELECT count(*) FROM baskets b JOIN basket_lines l ON l.basket_id = b.id
		JOIN stock_records s ON s.id = l.stock_record_id WHERE b.id = $1 AND b.status = 'Open' AND s.partner_sku = $2`, st.NewBasketID, sku))
	require.Equal(t, 1, s.count("SELECT count(*) FROM checkouts WHERE order_number = $1 AND status = 'PaymentExpired'", number))

	t.Run("ALatePaymentIsNeverLost", func(t *testing.T) {
		s.pay(b, cybersim.ActionPay)
		s.waitForOrder("slow-payer", number, "Complete")
		require.Equal(t, 1, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", number))
	})
}

func TestDeclineGivesAFreshBasketAndNoOrder(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("40.00")
	b := s.checkout("declined", sku)
	number := s.orderNumber(b)
	s.cs.SetDeclineNext(1)
	_, redirect := s.pay(b, cybersim.ActionPay)
	require.Equal(t, http.StatusSeeOther, redirect.StatusCode)
	require.True(t, strings.HasPrefix(redirect.Header.Get("Location"), s.apiURL+"/checkout/cancel-checkout/"), redirect.Header.Get("Location"))
	st := s.waitForState(number, commerce.CheckoutPaymentDeclined)
	require.NotEqual(t, b.ID, st.NewBasketID)
	require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", number))

	// The learner tries again with the new basket: a new order number.
	b2 := s.checkout("declined", sku)
	require.Equal(t, st.NewBasketID, b2.ID)
	require.NotEqual(t, number, s.orderNumber(b2))
	s.pay(b2, cybersim.ActionPay)
	s.waitForOrder("declined", s.orderNumber(b2), "Complete")
}

func TestPartialAuthorisationIsADecline(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("80.00")
	b := s.checkout("partial", sku)
	s.cs.SetPartialAuthNext(1)
	s.pay(b, cybersim.ActionPay)
	s.waitForState(s.orderNumber(b), commerce.CheckoutPaymentDeclined)
	require.Equal(t, 0, s.count("SELECT count(*) FROM orders WHERE number = $1", s.orderNumber(b)))
}

func TestCheckoutTwiceGivesTheSameAnswerAndOneWorkflow(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, sku := s.publishSeat("20.00")
	tok := s.token("twice", false)
	var basket basketResponse
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/baskets/", tok, map[string]any{"products": []any{map[string]any{"sku": sku}}}, &basket))
	body := map[string]any{"basket_id": basket.ID, "payment_processor": "cybersource"}
	var first, second map[string]any
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, body, &first))
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, body, &second))
	require.Equal(t, first, second)
	number := commerce.OrderNumber(s.partner, basket.ID)
	desc, err := s.temporal.DescribeWorkflowExecution(context.Background(), workflows.CheckoutWorkflowID(number), "")
	require.NoError(t, err)
	runID := desc.WorkflowExecutionInfo.Execution.RunId
	require.Equal(t, http.StatusOK, s.call("POST", "/api/v2/checkout/", tok, body, nil))
	desc, err = s.temporal.DescribeWorkflowExecution(context.Background(), workflows.CheckoutWorkflowID(number), "")
	require.NoError(t, err)
	require.Equal(t, runID, desc.WorkflowExecutionInfo.Execution.RunId, "no second workflow")

	var e map[string]any
	require.Equal(t, http.StatusBadRequest, s.call("POST", "/api/v2/checkout/", tok, map[string]any{"basket_id": basket.ID, "payment_processor": "bitcoin"}, &e))
	require.Equal(t, "Payment processor [bitcoin] not found.", e["developer_message"])
	require.Equal(t, http.StatusBadRequest, s.call("POST", "/api/v2/checkout/", s.token("other", false), body, &e))
	require.Equal(t, fmt.Sprintf("Basket [%d] not found.", basket.ID), e["developer_message"])
}

func TestFulfillmentErrorWaitsForOpsThenRetrySucceeds(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("60.00")
	s.lms.RejectCourses(course)
	b := s.checkout("ops-learner", sku)
	number := s.orderNumber(b)
	s.pay(b, cybersim.ActionPay)
	s.waitForOrder("ops-learner", number, "Fulfillment Error")
	st := s.waitForState(number, commerce.CheckoutNeedsAttention)
	require.Equal(t, commerce.LineServerError, st.Lines[0].Status)
	require.NotEmpty(t, st.Lines[0].LastError)
	require.Equal(t, 1, s.count("SELECT count(*) FROM order_notes n JOIN orders o ON o.id = n.order_id WHERE o.number = $1 AND n.note_type = 'Error'", number))

	staff := s.token("ops", true)
	require.Equal(t, http.StatusForbidden, s.call("PUT", "/api/v2/orders/"+number+"/fulfill/", s.token("ops-learner", false), nil, nil))
	s.lms.Reset()
	require.Equal(t, http.StatusOK, s.call("PUT", "/api/v2/orders/"+number+"/fulfill/", staff, nil, nil))
	s.waitForOrder("ops-learner", number, "Complete")
	s.waitForState(number, commerce.CheckoutFulfilled)
	require.Equal(t, http.StatusNotAcceptable, s.call("PUT", "/api/v2/orders/"+number+"/fulfill/", staff, nil, nil))
}

func TestFreeBasketIsPlacedWithoutPayment(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	course, sku := s.publishSeat("0.00")
	b := s.checkout("free-learner", sku)
	require.NotNil(t, b.Order)
	require.Nil(t, b.PaymentData)
	require.Equal(t, s.orderNumber(b), b.Order.Number)
	s.waitForOrder("free-learner", b.Order.Number, "Complete")
	_, ok := s.lms.Enrollment("free-learner", course)
	require.True(t, ok)
	require.Equal(t, 0, s.count("SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.number = $1", b.Order.Number))
}
