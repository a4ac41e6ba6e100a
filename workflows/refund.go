package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/commerce"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RefundInput starts a refund's workflow.
type RefundInput struct {
	RefundID int64 `json:"refund_id"`
	// RevokeFulfillment revokes the refunded enrollments after the credit (false: staff approved
	// the payment only).
	RevokeFulfillment bool `json:"revoke_fulfillment"`
	// RetryLimit bounds how long a failing credit or revocation is retried before ops are asked.
	RetryLimit time.Duration `json:"retry_limit"`
	Deployment string        `json:"deployment"`
}

// RefundDecision is the payload of the refund-decision signal: what ops (or staff approving
// again) decide about a refund that waits.
type RefundDecision struct {
	// Action is RefundRetry, RefundMarkDone, or commerce's approve / approve_payment_only.
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
}

// RefundState is the answer of a refund workflow's status query, and its result.
type RefundState struct {
	RefundID    int64                 `json:"refund_id"`
	OrderNumber string                `json:"order_number"`
	Status      commerce.RefundStatus `json:"status"`
	Total       string                `json:"total"`
	Currency    string                `json:"currency"`
	Lines       []RefundLineState     `json:"lines"`
	LastError   string                `json:"last_error,omitempty"`
	// Waiting says what the workflow waits for ("" when it is working).
	Waiting string `json:"waiting,omitempty"`
}

// RefundLineState is one refund line in the status query.
type RefundLineState struct {
	LineID   int64                     `json:"line_id"`
	SKU      string                    `json:"sku"`
	CourseID string                    `json:"course_id"`
	Status   commerce.RefundLineStatus `json:"status"`
}

// refund is the refund workflow's state.
type refund struct {
	in        RefundInput
	r         commerce.Refund
	state     RefundState
	decisions workflow.ReceiveChannel
	logger    log.Logger
}

// RefundWorkflow gives money back, durably: it credits the processor once (idempotent on the
// refund), then revokes each refunded enrollment; transient failures are retried with backoff,
// and a refusal (or retries running out) leaves the refund in Payment Refund Error or
// Revocation Error while the workflow waits for an ops decision (retry, or mark-done once they
// fixed it by hand). It never fails silently.
func RefundWorkflow(ctx workflow.Context, in RefundInput) (RefundState, error) {
	wf := &refund{in: in, decisions: workflow.GetSignalChannel(ctx, SignalRefundDecision)}
	wf.logger = log.With(workflow.GetLogger(ctx), "refund_id", in.RefundID)
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (RefundState, error) { return wf.state, nil }); err != nil {
		return wf.state, fmt.Errorf("register status query: %w", err)
	}
	if err := wf.load(ctx); err != nil {
		return wf.state, err
	}
	if wf.r.Status.Final() {
		return wf.state, nil
	}
	if err := wf.credit(ctx); err != nil {
		return wf.state, err
	}
	if err := wf.revoke(ctx); err != nil {
		return wf.state, err
	}
	if !wf.r.IsPaymentOnly() {
		if err := workflow.ExecuteActivity(receiptCtx(ctx), a.SendRefundEmail, wf.ref()).Get(ctx, nil); err != nil {
			wf.logger.Warn("refund email not sent", "error", err)
		}
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"status": string(wf.state.Status)}).Counter(MetricRefundOutcomes).Inc(1)
	return wf.state, nil
}

func (wf *refund) ref() activities.RefundRef {
	return activities.RefundRef{RefundID: wf.in.RefundID, Deployment: wf.in.Deployment}
}

// load reads the refund and shows it.
func (wf *refund) load(ctx workflow.Context) error {
	var r commerce.Refund
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.LoadRefund, wf.ref()).Get(ctx, &r); err != nil {
		return fmt.Errorf("load refund %d: %w", wf.in.RefundID, err)
	}
	wf.show(ctx, r, "")
	return nil
}

// show records the refund in the status query, its search attribute and the UI details.
func (wf *refund) show(ctx workflow.Context, r commerce.Refund, lastError string) {
	wf.r = r
	wf.state = RefundState{RefundID: r.ID, OrderNumber: r.OrderNumber, Status: r.Status, Total: commerce.FormatMoney(r.Total),
		Currency: r.Currency, Lines: []RefundLineState{}, LastError: lastError}
	for _, l := range r.Lines {
		wf.state.Lines = append(wf.state.Lines, RefundLineState{LineID: l.ID, SKU: l.SKU, CourseID: l.CourseID, Status: l.Status})
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchRefundStatus.ValueSet(string(r.Status))); err != nil {
		wf.logger.Error("cannot update the RefundStatus search attribute", "error", err)
	}
	details := fmt.Sprintf("Refund %d of %s: %s %s, %s", r.ID, r.OrderNumber, commerce.FormatMoney(r.Total), r.Currency, r.Status)
	if lastError != "" {
		details += ": " + lastError
	}
	workflow.SetCurrentDetails(ctx, details)
}

// credit issues the credit, asking ops after a refusal until it is done.
func (wf *refund) credit(ctx workflow.Context) error {
	for wf.r.Status == commerce.RefundOpen || wf.r.Status == commerce.RefundPaymentRefundError {
		var r commerce.Refund
		err := workflow.ExecuteActivity(wf.retried(ctx), a.IssueCredit, wf.ref()).Get(ctx, &r)
		if err == nil {
			wf.show(ctx, r, "")
			return nil
		}
		if err := wf.setStatus(ctx, commerce.RefundPaymentRefundError, "Credit failed: "+failureText(err)); err != nil {
			return err
		}
		decision := wf.awaitDecision(ctx, "an ops decision on the credit (retry, or mark-done if refunded by hand)")
		if decision.Action == RefundMarkDone {
			return wf.setStatus(ctx, commerce.RefundPaymentRefunded, "")
		}
	}
	return nil
}

// revoke revokes the refunded enrollments (or closes the lines when staff approved the payment
// only), asking ops after a refusal, and completes the refund.
func (wf *refund) revoke(ctx workflow.Context) error {
	for wf.r.Status == commerce.RefundPaymentRefunded || wf.r.Status == commerce.RefundRevocationError {
		if !wf.in.RevokeFulfillment || wf.r.IsPaymentOnly() {
			if err := wf.closeLines(ctx); err != nil {
				return err
			}
			return wf.setStatus(ctx, commerce.RefundComplete, "")
		}
		failures := wf.revokeLines(ctx)
		if err := wf.load(ctx); err != nil {
			return err
		}
		if len(failures) == 0 {
			return wf.setStatus(ctx, commerce.RefundComplete, "")
		}
		if err := wf.setStatus(ctx, commerce.RefundRevocationError, "Revocation failed: "+failures[0]); err != nil {
			return err
		}
		decision := wf.awaitDecision(ctx, "an ops decision on the revocation (retry, or mark-done if revoked by hand)")
		if decision.Action == RefundMarkDone {
			if err := wf.closeLines(ctx); err != nil {
				return err
			}
			return wf.setStatus(ctx, commerce.RefundComplete, "")
		}
	}
	return nil
}

// revokeLines revokes every line not revoked yet, in parallel, and returns the failures.
func (wf *refund) revokeLines(ctx workflow.Context) []string {
	var futures []workflow.Future
	for _, l := range wf.r.Lines {
		if l.Status == commerce.RefundLineComplete || l.Status == commerce.RefundLineDenied {
			continue
		}
		futures = append(futures, workflow.ExecuteActivity(wf.retried(ctx), a.RevokeEnrollment, activities.RevokeInput{
			RefundID: wf.r.ID, LineID: l.ID, Username: wf.r.Username, CourseID: l.CourseID, Mode: l.Mode, Deployment: wf.in.Deployment,
		}))
	}
	var failures []string
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			failures = append(failures, failureText(err))
		}
	}
	return failures
}

// closeLines marks the lines not revoked yet Complete (nothing to revoke, or done by hand).
func (wf *refund) closeLines(ctx workflow.Context) error {
	var r commerce.Refund
	in := activities.RefundLinesInput{RefundID: wf.r.ID, Status: commerce.RefundLineComplete, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.SetRefundLines, in).Get(ctx, &r); err != nil {
		return fmt.Errorf("close the lines of refund %d: %w", wf.r.ID, err)
	}
	wf.show(ctx, r, "")
	return nil
}

// setStatus moves the refund to status in the database and shows it.
func (wf *refund) setStatus(ctx workflow.Context, status commerce.RefundStatus, lastError string) error {
	var r commerce.Refund
	in := activities.RefundStatusInput{RefundID: wf.r.ID, Status: status, Deployment: wf.in.Deployment}
	if err := workflow.ExecuteLocalActivity(localCtx(ctx), a.SetRefundStatus, in).Get(ctx, &r); err != nil {
		return fmt.Errorf("refund %d %s: %w", wf.r.ID, status, err)
	}
	wf.show(ctx, r, lastError)
	return nil
}

// awaitDecision waits for an ops decision, saying so in the status and the UI.
func (wf *refund) awaitDecision(ctx workflow.Context, what string) RefundDecision {
	wf.state.Waiting = what
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Refund %d of %s is %s: %s. Waiting for %s.", wf.r.ID, wf.r.OrderNumber, wf.r.Status, wf.state.LastError, what))
	wf.logger.Warn("refund needs attention", "status", wf.r.Status, "last_error", wf.state.LastError)
	for {
		var d RefundDecision
		wf.decisions.Receive(ctx, &d)
		if d.Action == RefundRetry || d.Action == RefundMarkDone || d.Action == string(commerce.RefundApprove) {
			wf.state.Waiting = ""
			wf.logger.Info("refund decision", "action", d.Action, "note", d.Note)
			return d
		}
		wf.logger.Warn("unknown refund decision ignored", "action", d.Action)
	}
}

// retried retries a credit or a revocation with backoff (1 s, x2, at most 5 min apart) for at
// most RetryLimit; refusals are not retried.
func (wf *refund) retried(ctx workflow.Context) workflow.Context {
	limit := wf.in.RetryLimit
	if limit <= 0 {
		limit = time.Hour
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: limit,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeRefundRefused, activities.ErrTypeRevocationRefused, activities.ErrTypeWrongDeployment},
		},
	})
}

// failureText is the message of an activity failure for ops.
func failureText(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Error()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "retries ran out: " + timeoutErr.Error()
	}
	return err.Error()
}
