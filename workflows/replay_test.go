package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays checkout histories recorded from the real dev server
// (testdata/histories, exported with `temporal workflow show -o json`) against today's workflow
// code: a change that would break checkouts already running fails here. When a change is
// meant to alter the commands, guard it with workflow.GetVersion and record new histories.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.CheckoutWorkflow, workflow.RegisterOptions{Name: workflows.CheckoutWorkflowType})
			r.RegisterWorkflowWithOptions(workflows.RefundWorkflow, workflow.RegisterOptions{Name: workflows.RefundWorkflowType})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
