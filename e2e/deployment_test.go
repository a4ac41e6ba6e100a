package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
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
	var ownerLogs syncBuffer
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

// A worker started while Temporal is down waits for it, then claims the namespace and polls (it
// used to exit, "refusing to run", on the connection error; found by the Temporal restart fault).
func TestWorkerStartedWhileTemporalIsDownWaitsForIt(t *testing.T) {
	t.Parallel()
	ns := "e2e-late-" + randomHex(4)
	server := startDevTemporal(t, ns)
	server.kill()
	id, err := dbtest.Store(t).DeploymentID(context.Background())
	require.NoError(t, err)

	worker := exec.Command(binary, "worker")
	worker.Env = append(os.Environ(), "DATABASE_URL="+dbtest.URL(t), "TEMPORAL_ADDRESS="+server.address, "TEMPORAL_NAMESPACE="+ns,
		"PARTNER_SHORT_CODE=EDX", "LOG_LEVEL=info")
	var logs syncBuffer
	worker.Stdout, worker.Stderr = &logs, &logs
	require.NoError(t, worker.Start())
	exited := make(chan error, 1)
	go func() { exited <- worker.Wait() }()
	t.Cleanup(func() { _ = worker.Process.Kill(); <-exited })

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "the worker waits") }, 30*time.Second, 100*time.Millisecond,
		"the worker says it waits: %s", &logs)
	select {
	case err := <-exited:
		t.Fatalf("the worker exited while Temporal was down (%v):\n%s", err, &logs)
	case <-time.After(2 * time.Second):
	}

	server.start()
	tc, err := client.Dial(client.Options{HostPort: server.address, Namespace: ns, Logger: quietLogger{}})
	require.NoError(t, err)
	defer tc.Close()
	require.Eventually(t, func() bool {
		resp, err := tc.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		return err == nil && resp.GetNamespaceInfo().GetData()[workflows.NamespaceOwnerKey] == id
	}, 60*time.Second, 200*time.Millisecond, "the worker claims the namespace once Temporal is back: %s", &logs)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "worker polling") }, 30*time.Second, 100*time.Millisecond,
		"the worker polls: %s", &logs)
}

// syncBuffer collects a process's output while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
