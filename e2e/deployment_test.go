package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/db"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Two deployments (two databases, same PARTNER_SHORT_CODE, so the same order numbers and
// workflow IDs) pointed at one Temporal namespace: the first claims it; the second's worker and
// API refuse to start, saying what to change, and nothing of the first is touched.
func TestSecondDeploymentOnANamespaceRefusesToStart(t *testing.T) {
	t.Parallel()
	ns, err := freshNamespace("e2e-owner-" + randomHex(4))
	require.NoError(t, err)
	first := dbtest.URL(t)
	second := dbtest.ExtraSchema(t)
	firstID, err := dbtest.Store(t).DeploymentID(context.Background())
	require.NoError(t, err)
	pool, err := db.NewPool(context.Background(), second)
	require.NoError(t, err)
	secondID, err := db.NewStore(pool).DeploymentID(context.Background())
	pool.Close()
	require.NoError(t, err)
	require.NotEqual(t, firstID, secondID, "each database has its own identity")

	env := func(dbURL string) []string {
		return append(os.Environ(), "DATABASE_URL="+dbURL, "TEMPORAL_ADDRESS="+temporalAddress, "TEMPORAL_NAMESPACE="+ns,
			"PARTNER_SHORT_CODE=EDX", "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=info")
	}
	owner := exec.Command(binary, "worker")
	owner.Env = env(first)
	var ownerLogs bytes.Buffer
	owner.Stdout, owner.Stderr = &ownerLogs, &ownerLogs
	require.NoError(t, owner.Start())
	t.Cleanup(func() { _ = owner.Process.Kill(); _ = owner.Wait() })

	tc, err := client.Dial(client.Options{HostPort: temporalAddress, Namespace: ns, Logger: quietLogger{}})
	require.NoError(t, err)
	defer tc.Close()
	require.Eventually(t, func() bool {
		resp, err := tc.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		return err == nil && resp.GetNamespaceInfo().GetData()[workflows.NamespaceOwnerKey] == firstID
	}, 30*time.Second, 100*time.Millisecond, "the first deployment claims the namespace: %s", &ownerLogs)

	for _, sub := range []string{"worker", "serve"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, binary, sub)
		cmd.Env = env(second)
		out, err := cmd.CombinedOutput()
		killed := ctx.Err()
		cancel()
		require.Error(t, err, "%s of the second deployment must refuse to run:\n%s", sub, out)
		require.NoError(t, killed, "%s must exit by itself, not be killed:\n%s", sub, out)
		text := string(out)
		require.Contains(t, text, "refusing to run", sub)
		require.Contains(t, text, firstID, sub)
		require.Contains(t, text, secondID, sub)
		require.Contains(t, text, "TEMPORAL_NAMESPACE", sub)
	}
	require.Nil(t, owner.ProcessState, "the first deployment's worker still runs")
	require.False(t, strings.Contains(ownerLogs.String(), "refusing"), ownerLogs.String())
}
