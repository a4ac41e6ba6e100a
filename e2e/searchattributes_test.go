package e2e_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/coursecommerce/commerce/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestEnsureSearchAttributesRegistersThemOnce(t *testing.T) {
	t.Parallel()
	ns := "e2e-sa-" + randomHex(4)
	c, err := client.Dial(client.Options{HostPort: temporalAddress, Namespace: ns, Logger: quietLogger{}})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	require.NoError(t, err)

	var added []string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		added, err = workflows.EnsureSearchAttributes(ctx, c, ns)
		assert.NoError(ct, err)
	}, 30*time.Second, 500*time.Millisecond, "the new namespace becomes usable")
	sort.Strings(added)
	require.Equal(t, []string{"BasketId", "CheckoutStatus", "OrderNumber", "OrderTotal", "PaymentProcessor", "RefundStatus", "Username"}, added)
	again, err := workflows.EnsureSearchAttributes(ctx, c, ns)
	require.NoError(t, err)
	require.Empty(t, again)
}
