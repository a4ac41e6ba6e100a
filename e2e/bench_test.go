package e2e_test

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkCallbackToOrderPlaced measures, on the real stack, the time from the processor's
// server-to-server notification (POST /payment/cybersource/notify/) to the order row being
// committed: record, verify, Signal-With-Start, workflow task, PlaceOrder local activity.
// Run: go test ./e2e -run '^$' -bench CallbackToOrderPlaced -benchtime 50x
func BenchmarkCallbackToOrderPlaced(b *testing.B) {
	s := newStack(b, stackOptions{})
	_, sku := s.publishSeat("49.00")
	s.cs.SetSkipNotify(true)
	var samples []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		user := "bench-" + randomHex(4)
		basket := s.checkout(user, sku)
		number := s.orderNumber(basket)
		res, err := s.cs.Pay(context.Background(), basket.PaymentData.PaymentFormData, "pay")
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		require.Equal(b, http.StatusOK, s.postReply(s.apiURL+"/payment/cybersource/notify/", res.Reply).StatusCode)
		for s.count("SELECT count(*) FROM orders WHERE number = $1", number) == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		samples = append(samples, time.Since(start))
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds())/1000, "p99-ms")
}
