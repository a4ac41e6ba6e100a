package loadtest

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Names of the bare workflow, its signal and its activities (registered on the run's own task
// queue, load-bare-<run id>, so no other worker ever sees them).
const (
	BareWorkflowType = "LoadBareWorkflow"
	BareSignal       = "paid"
)

// Steps of a bare workflow: the start (as the checkout's POST starts its workflow), the signal
// (as the payment notification does), and from the signal to the workflow's completion.
const (
	StepStart     = "start"
	StepSignal    = "signal"
	StepCompleted = "signal->completed"
)

// bareSteps are the steps a bare workflow reports, in order.
var bareSteps = []string{StepStart, StepSignal, StepCompleted, StepTotal}

// BareWorkflow has the shape of the checkout without its business: a local activity (the
// checkout's LoadOrder), one signal (the payment notification), then three activities in
// sequence (place, enroll, receipt), none of which does anything.
func BareWorkflow(ctx workflow.Context, id string) error {
	var a *BareActivities
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, a.Load, id).Get(ctx, nil); err != nil {
		return err
	}
	var payment string
	workflow.GetSignalChannel(ctx, BareSignal).Receive(ctx, &payment)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for _, step := range []func(context.Context, string) error{a.Place, a.Enroll, a.Receipt} {
		if err := workflow.ExecuteActivity(actx, step, id).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// BareActivities are the bare workflow's no-op activities.
type BareActivities struct{}

// Load stands for the checkout's LoadOrder local activity.
func (*BareActivities) Load(context.Context, string) error { return nil }

// Place stands for PlaceOrder.
func (*BareActivities) Place(context.Context, string) error { return nil }

// Enroll stands for Enroll.
func (*BareActivities) Enroll(context.Context, string) error { return nil }

// Receipt stands for SendReceipt.
func (*BareActivities) Receipt(context.Context, string) error { return nil }

// bareRunner starts bare workflows and serves them with its own worker.
type bareRunner struct {
	client client.Client
	worker worker.Worker
	queue  string
	runID  string
}

// startBare connects to Temporal and starts the bare worker on the run's task queue.
func startBare(o Options, runID string) (*bareRunner, error) {
	c, err := client.Dial(client.Options{HostPort: o.TemporalAddress, Namespace: o.TemporalNamespace,
		Logger: temporallog.NewStructuredLogger(o.Logger)})
	if err != nil {
		return nil, fmt.Errorf("bare workflow: connect to Temporal at %s (namespace %s): %w", o.TemporalAddress, o.TemporalNamespace, err)
	}
	b := &bareRunner{client: c, queue: "load-bare-" + runID, runID: runID}
	b.worker = worker.New(c, b.queue, worker.Options{})
	b.worker.RegisterWorkflowWithOptions(BareWorkflow, workflow.RegisterOptions{Name: BareWorkflowType})
	b.worker.RegisterActivityWithOptions(&BareActivities{}, activity.RegisterOptions{})
	if err := b.worker.Start(); err != nil {
		c.Close()
		return nil, fmt.Errorf("bare workflow: start the worker: %w", err)
	}
	return b, nil
}

// stop stops the worker and closes the client.
func (b *bareRunner) stop() {
	b.worker.Stop()
	b.client.Close()
}

// run is one bare workflow: start, signal, wait for its completion.
func (b *bareRunner) run(ctx context.Context, n int) outcome {
	steps := map[string]time.Duration{}
	id := fmt.Sprintf("load-bare-%s-%d", b.runID, n)
	t0 := time.Now()
	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: b.queue}, BareWorkflowType, id)
	if err != nil {
		return failed(steps, 0, failStep(StepStart, err))
	}
	steps[StepStart] = time.Since(t0)
	t := time.Now()
	if err := b.client.SignalWorkflow(ctx, id, run.GetRunID(), BareSignal, "paid"); err != nil {
		return failed(steps, 0, failStep(StepSignal, err))
	}
	steps[StepSignal] = time.Since(t)
	if err := run.Get(ctx, nil); err != nil {
		return failed(steps, 0, failStep(StepCompleted, err))
	}
	steps[StepCompleted] = time.Since(t)
	steps[StepTotal] = time.Since(t0)
	return outcome{steps: steps}
}
