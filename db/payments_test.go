package db_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// storedResponse is a payment_processor_responses row.
type storedResponse struct {
	Processor     string
	TransactionID *string
	BasketID      *int64
	OrderNumber   string
	Kind          string
	Authentic     *bool
	Body          map[string]string
}

func responseByID(t *testing.T, id int64) storedResponse {
	t.Helper()
	var r storedResponse
	var raw []byte
	err := dbtest.Pool(t).QueryRow(context.Background(),
		`SELECT processor_name, transaction_id, basket_id, order_number, kind, authentic, response
		 FROM payment_processor_responses WHERE id = $1`, id).
		Scan(&r.Processor, &r.TransactionID, &r.BasketID, &r.OrderNumber, &r.Kind, &r.Authentic, &raw)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &r.Body))
	return r
}

func TestRecordProcessorResponse(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	yes, no := true, false

	t.Run("KnownOrderNumberLinksTheBasket", func(t *testing.T) {
		t.Parallel()
		f := checkoutOf(t, s, "49.00")
		body := map[string]string{"req_reference_number": f.checkout.OrderNumber, "decision": "ACCEPT", "auth_amount": "49.00"}
		id, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
			Processor: "cybersource", TransactionID: "txn-1", OrderNumber: f.checkout.OrderNumber,
			Kind: "notification", Authentic: &yes, Body: body,
		})
		require.NoError(t, err)
		require.NotZero(t, id)
		r := responseByID(t, id)
		require.Equal(t, "cybersource", r.Processor)
		require.NotNil(t, r.TransactionID)
		require.Equal(t, "txn-1", *r.TransactionID)
		require.NotNil(t, r.BasketID)
		require.Equal(t, f.basket.ID, *r.BasketID)
		require.Equal(t, f.checkout.OrderNumber, r.OrderNumber)
		require.Equal(t, "notification", r.Kind)
		require.NotNil(t, r.Authentic)
		require.True(t, *r.Authentic)
		require.Equal(t, body, r.Body)

		n, err := s.CountProcessorResponses(ctx, f.checkout.OrderNumber)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)

		t.Run("ADuplicateIsRecordedToo", func(t *testing.T) {
			id2, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
				Processor: "cybersource", TransactionID: "txn-1", OrderNumber: f.checkout.OrderNumber,
				Kind: "notification", Authentic: &yes, Body: body,
			})
			require.NoError(t, err)
			require.NotEqual(t, id, id2)
			n, err := s.CountProcessorResponses(ctx, f.checkout.OrderNumber)
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
		})
	})

	t.Run("UnknownOrderNumbersAreRecordedWithoutBasket", func(t *testing.T) {
		t.Parallel()
		for _, number := range []string{"EDX-999999999", "EDX-100000", "garbage", "", "EDX-99999999999999999999999"} {
			t.Run(number, func(t *testing.T) {
				id, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
					Processor: "cybersource", OrderNumber: number, Kind: "notification", Authentic: &no,
					Body: map[string]string{"req_reference_number": number},
				})
				require.NoError(t, err)
				r := responseByID(t, id)
				require.Nil(t, r.BasketID)
				require.Nil(t, r.TransactionID, "an empty transaction id is stored as NULL")
				require.Equal(t, number, r.OrderNumber)
				require.NotNil(t, r.Authentic)
				require.False(t, *r.Authentic)
			})
		}
	})

	t.Run("UnknownAuthenticityIsNull", func(t *testing.T) {
		t.Parallel()
		id, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{
			Processor: "paypal", TransactionID: "PAY-1", OrderNumber: "EDX-999999998", Kind: "refund",
			Body: map[string]string{},
		})
		require.NoError(t, err)
		r := responseByID(t, id)
		require.Nil(t, r.Authentic)
		require.Equal(t, "refund", r.Kind)
		require.Empty(t, r.Body)
	})
}

func TestPaymentDeliveredWhenRecordedOnTheOrder(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	f := checkoutOf(t, s, "49.00")
	number := f.checkout.OrderNumber
	accepted := func(number, processor, txn string) commerce.PaymentNotification {
		return commerce.PaymentNotification{OrderNumber: number, Processor: processor, TransactionID: txn, Outcome: commerce.PaymentAccepted}
	}

	ok, err := s.PaymentDelivered(ctx, accepted(number, "cybersource", "txn-1"))
	require.NoError(t, err)
	require.False(t, ok, "nothing is recorded before the order is placed")

	_, _, err = s.PlaceOrder(ctx, f.checkout, paymentFor(f.checkout, "txn-1"))
	require.NoError(t, err)

	declined := accepted(number, "cybersource", "txn-1")
	declined.Outcome = commerce.PaymentDeclined
	for _, tc := range []struct {
		name string
		n    commerce.PaymentNotification
		want bool
	}{
		{"SameProcessorAndReference", accepted(number, "cybersource", "txn-1"), true},
		{"OtherReference", accepted(number, "cybersource", "txn-2"), false},
		{"OtherProcessor", accepted(number, "paypal", "txn-1"), false},
		{"OtherOrder", accepted("EDX-999999999", "cybersource", "txn-1"), false},
		{"NotAnAcceptance", declined, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := s.PaymentDelivered(ctx, tc.n)
			require.NoError(t, err)
			require.Equal(t, tc.want, ok)
		})
	}
}

// A message signalled to the checkout makes the next one with the same transaction and outcome
// redundant (the browser's redirect after the notification), and only that one.
func TestPaymentDeliveredOnceSignalled(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	ctx := context.Background()
	f := checkoutOf(t, s, "49.00")
	number := f.checkout.OrderNumber
	n := commerce.PaymentNotification{OrderNumber: number, Processor: "cybersource", TransactionID: "txn-1", Outcome: commerce.PaymentDeclined}
	record := func() int64 {
		id, err := s.RecordProcessorResponse(ctx, commerce.ProcessorResponse{Processor: "cybersource", TransactionID: "txn-1",
			OrderNumber: number, Kind: "notification", Body: map[string]string{"decision": "DECLINE"}})
		require.NoError(t, err)
		return id
	}

	first := record()
	ok, err := s.PaymentDelivered(ctx, n)
	require.NoError(t, err)
	require.False(t, ok, "recorded is not delivered")

	require.NoError(t, s.MarkPaymentDelivered(ctx, first, n.Outcome))
	record() // the redirect
	ok, err = s.PaymentDelivered(ctx, n)
	require.NoError(t, err)
	require.True(t, ok)

	for name, other := range map[string]func(*commerce.PaymentNotification){
		"OtherOutcome":     func(o *commerce.PaymentNotification) { o.Outcome = commerce.PaymentAccepted },
		"OtherTransaction": func(o *commerce.PaymentNotification) { o.TransactionID = "txn-2" },
		"OtherProcessor":   func(o *commerce.PaymentNotification) { o.Processor = "paypal" },
		"OtherOrder":       func(o *commerce.PaymentNotification) { o.OrderNumber = "EDX-999999999" },
	} {
		o := n
		other(&o)
		ok, err := s.PaymentDelivered(ctx, o)
		require.NoError(t, err, name)
		require.False(t, ok, name)
	}
}
