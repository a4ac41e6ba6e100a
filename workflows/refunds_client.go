package workflows

import (
	"context"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Refunds starts and resumes refund workflows on behalf of the API.
type Refunds struct {
	Client client.Client
	// TaskQueue is where refunds run; empty means TaskQueue.
	TaskQueue string
	// RetryLimit bounds the retries of a credit or a revocation before ops are asked.
	RetryLimit time.Duration
	Deployment string
	Guard      *NamespaceGuard
}

// Approve starts the refund's workflow, or resumes it when it waits for a decision (as staff
// approving again after a failure). A refund that is over is not refunded again: its workflow
// finds it final and ends.
func (s *Refunds) Approve(ctx context.Context, r commerce.Refund, revokeFulfillment bool) error {
	if err := s.Guard.Ready(); err != nil {
		return err
	}
	id := RefundWorkflowID(r.ID)
	in := RefundInput{RefundID: r.ID, RevokeFulfillment: revokeFulfillment, RetryLimit: s.RetryLimit, Deployment: s.Deployment}
	_, err := s.Client.SignalWithStartWorkflow(ctx, id, SignalRefundDecision, RefundDecision{Action: string(commerce.RefundApprove)},
		refundStartOptions(r, s.queue()), RefundWorkflowType, in)
	if err != nil {
		return unavailable(fmt.Errorf("approve refund %d: %w", r.ID, err))
	}
	return nil
}

func (s *Refunds) queue() string {
	if s.TaskQueue != "" {
		return s.TaskQueue
	}
	return TaskQueue
}

// refundStartOptions are the options of a refund's workflow: one per refund, findable by its
// order, learner and status.
func refundStartOptions(r commerce.Refund, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID: RefundWorkflowID(r.ID), TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchOrderNumber.ValueSet(r.OrderNumber),
			SearchUsername.ValueSet(r.Username),
			SearchRefundStatus.ValueSet(string(r.Status)),
		),
		StaticSummary: fmt.Sprintf("Refund %d of %s for %s: %s %s", r.ID, r.OrderNumber, r.Username, commerce.FormatMoney(r.Total), r.Currency),
	}
}
