package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/workflows"
)

// refundHarness runs RefundWorkflow against an in-memory refund, following db.Store's rules.
type refundHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	log *logRecorder

	mu      sync.Mutex
	r       commerce.Refund
	credits int
	revokes map[int64]int
	// credit decides one IssueCredit attempt's failure (nil: credited).
	credit func(attempt int) error
	// revoke decides one revocation attempt's failure for a line (nil: revoked).
	revoke func(lineID int64, attempt int) error
	emails int
}

func lineRefund() commerce.Refund {
	return commerce.Refund{ID: 42, OrderNumber: orderNumber, Username: username, Total: money("149.00"), Currency: "USD",
		Status: commerce.RefundOpen, Processor: processor, Reference: "txn-1",
		Lines: []commerce.RefundLine{
			{ID: 1, SKU: skuVerified, CourseID: courseVerified, Mode: "verified", Credit: money("49.00"), Quantity: 1, Status: commerce.RefundLineOpen},
			{ID: 2, SKU: skuCredit, CourseID: courseCredit, Mode: "credit", Credit: money("100.00"), Quantity: 1, Status: commerce.RefundLineOpen},
		}}
}

func newRefundHarness(t *testing.T, r commerce.Refund) *refundHarness {
	t.Helper()
	h := &refundHarness{t: t, r: r, log: &logRecorder{}, revokes: map[int64]int{}}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(h.log)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(startTime)
	env.SetTestTimeout(20 * time.Second)
	env.RegisterWorkflowWithOptions(workflows.RefundWorkflow, workflow.RegisterOptions{Name: workflows.RefundWorkflowType})
	env.RegisterActivity(&activities.Activities{})
	h.env = env
	env.OnActivity(a.LoadRefund, mock.Anything, mock.Anything).Return(func(context.Context, activities.RefundRef) (commerce.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		return copyRefund(h.r), nil
	})
	env.OnActivity(a.SetRefundStatus, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RefundStatusInput) (commerce.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.r.Status != in.Status && !h.r.Status.CanBecome(in.Status) {
			return commerce.Refund{}, temporal.NewNonRetryableApplicationError("bad transition "+string(h.r.Status)+" -> "+string(in.Status), "Conflict", nil)
		}
		h.r.Status = in.Status
		return copyRefund(h.r), nil
	})
	env.OnActivity(a.IssueCredit, mock.Anything, mock.Anything).Return(func(context.Context, activities.RefundRef) (commerce.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.credits++
		if h.credit != nil {
			if err := h.credit(h.credits); err != nil {
				if errors.As(err, new(*temporal.ApplicationError)) && temporal.IsApplicationError(err) {
					var appErr *temporal.ApplicationError
					errors.As(err, &appErr)
					if appErr.NonRetryable() {
						h.r.Status = commerce.RefundPaymentRefundError
					}
				}
				return commerce.Refund{}, err
			}
		}
		h.r.Status = commerce.RefundPaymentRefunded
		return copyRefund(h.r), nil
	})
	env.OnActivity(a.RevokeEnrollment, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RevokeInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.revokes[in.LineID]++
		var err error
		if h.revoke != nil {
			err = h.revoke(in.LineID, h.revokes[in.LineID])
		}
		for i := range h.r.Lines {
			if h.r.Lines[i].ID == in.LineID {
				switch {
				case err == nil:
					h.r.Lines[i].Status = commerce.RefundLineComplete
				case errors.As(err, new(*temporal.ApplicationError)):
					var appErr *temporal.ApplicationError
					errors.As(err, &appErr)
					if appErr.NonRetryable() {
						h.r.Lines[i].Status = commerce.RefundLineRevocationError
					}
				}
			}
		}
		return err
	})
	env.OnActivity(a.SetRefundLines, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RefundLinesInput) (commerce.Refund, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i := range h.r.Lines {
			if h.r.Lines[i].Status != commerce.RefundLineComplete && h.r.Lines[i].Status != commerce.RefundLineDenied {
				h.r.Lines[i].Status = in.Status
			}
		}
		return copyRefund(h.r), nil
	})
	env.OnActivity(a.SendRefundEmail, mock.Anything, mock.Anything).Return(func(context.Context, activities.RefundRef) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.emails++
		return nil
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workflow log:\n%s", h.log.String())
		}
	})
	return h
}

func copyRefund(r commerce.Refund) commerce.Refund {
	r.Lines = append([]commerce.RefundLine(nil), r.Lines...)
	return r
}

func (h *refundHarness) decide(d time.Duration, action string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(workflows.SignalRefundDecision, workflows.RefundDecision{Action: action, Note: "ops"})
	}, d)
}

func (h *refundHarness) query() workflows.RefundState {
	var st workflows.RefundState
	v, err := h.env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(h.t, err)
	require.NoError(h.t, v.Get(&st))
	return st
}

func (h *refundHarness) run(revoke bool) workflows.RefundState {
	h.t.Helper()
	h.env.ExecuteWorkflow(workflows.RefundWorkflowType, workflows.RefundInput{RefundID: h.r.ID, RevokeFulfillment: revoke, RetryLimit: time.Hour, Deployment: deployment})
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.NoError(h.t, h.env.GetWorkflowError())
	var st workflows.RefundState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

func TestRefund_CreditsOnceThenRevokesEachLine(t *testing.T) {
	h := newRefundHarness(t, lineRefund())
	st := h.run(true)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Equal(t, 1, h.credits)
	assert.Equal(t, map[int64]int{1: 1, 2: 1}, h.revokes)
	for _, l := range st.Lines {
		assert.Equal(t, commerce.RefundLineComplete, l.Status)
	}
	assert.Equal(t, 1, h.emails)
}

func TestRefund_TransientFailuresAreRetried(t *testing.T) {
	h := newRefundHarness(t, lineRefund())
	h.credit = func(attempt int) error {
		if attempt <= 2 {
			return errors.New("processor 503")
		}
		return nil
	}
	h.revoke = func(line int64, attempt int) error {
		if line == 1 && attempt <= 3 {
			return temporal.NewApplicationError("LMS 503", "Fulfillment Server Error")
		}
		return nil
	}
	st := h.run(true)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Equal(t, 3, h.credits)
	assert.Equal(t, 4, h.revokes[1])
}

func TestRefund_ARefusedCreditWaitsForOpsThenRetries(t *testing.T) {
	h := newRefundHarness(t, lineRefund())
	h.credit = func(attempt int) error {
		if attempt == 1 {
			return temporal.NewNonRetryableApplicationError("refused", activities.ErrTypeRefundRefused, nil)
		}
		return nil
	}
	var waiting workflows.RefundState
	h.env.RegisterDelayedCallback(func() { waiting = h.query() }, time.Minute)
	h.decide(2*time.Minute, workflows.RefundRetry)
	st := h.run(true)
	assert.Equal(t, commerce.RefundPaymentRefundError, waiting.Status)
	assert.Contains(t, waiting.LastError, "refused")
	assert.NotEmpty(t, waiting.Waiting)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Equal(t, 2, h.credits)
}

func TestRefund_ARefusedRevocationWaitsForOpsThenMarkDone(t *testing.T) {
	h := newRefundHarness(t, lineRefund())
	h.revoke = func(line int64, _ int) error {
		if line == 2 {
			return temporal.NewNonRetryableApplicationError("LMS 400", activities.ErrTypeRevocationRefused, nil)
		}
		return nil
	}
	var waiting workflows.RefundState
	h.env.RegisterDelayedCallback(func() { waiting = h.query() }, time.Minute)
	h.decide(2*time.Minute, workflows.RefundMarkDone)
	st := h.run(true)
	assert.Equal(t, commerce.RefundRevocationError, waiting.Status)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Equal(t, 1, h.revokes[2], "a refusal is not retried")
	for _, l := range st.Lines {
		assert.Equal(t, commerce.RefundLineComplete, l.Status)
	}
}

func TestRefund_PaymentOnlyRevokesNothing(t *testing.T) {
	h := newRefundHarness(t, lineRefund())
	st := h.run(false)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Equal(t, 1, h.credits)
	assert.Empty(t, h.revokes)
}

func TestRefund_AFinalRefundIsLeftAlone(t *testing.T) {
	r := lineRefund()
	r.Status = commerce.RefundComplete
	h := newRefundHarness(t, r)
	st := h.run(true)
	assert.Equal(t, commerce.RefundComplete, st.Status)
	assert.Zero(t, h.credits)
	assert.Empty(t, h.revokes)
	assert.Zero(t, h.emails)
}
