package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// NamespaceOwnerKey is the key of the Temporal namespace's data that names the deployment owning
// the namespace (DESIGN.md §4: one deployment per namespace).
const NamespaceOwnerKey = "coursecommerce.deployment"

// ErrNamespaceOwned is returned by ClaimNamespace when another deployment owns the namespace.
var ErrNamespaceOwned = errors.New("the Temporal namespace belongs to another deployment")

// ErrNamespaceNotClaimable is returned by ClaimNamespace when this deployment may not write the
// namespace's data (e.g. Temporal Cloud, or an mTLS identity without namespace admin rights).
var ErrNamespaceNotClaimable = errors.New("the Temporal namespace cannot be claimed by this deployment")

// ClaimNamespace makes sure namespace belongs to deployment: an unclaimed namespace is claimed
// (recorded in its data under NamespaceOwnerKey, then read back after settle to lose a race
// honestly); a namespace owned by another deployment yields ErrNamespaceOwned with what to
// change. serve and worker call it before they start.
func ClaimNamespace(ctx context.Context, svc workflowservice.WorkflowServiceClient, namespace, deployment string, settle time.Duration) error {
	if deployment == "" {
		return fmt.Errorf("claim namespace %s: no deployment identity (run migrate)", namespace)
	}
	owner, err := namespaceOwner(ctx, svc, namespace)
	if err != nil {
		return err
	}
	if owner == "" {
		_, err := svc.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: namespace,
			UpdateInfo: &namespacepb.UpdateNamespaceInfo{Data: map[string]string{NamespaceOwnerKey: deployment}}})
		var denied *serviceerror.PermissionDenied
		if errors.As(err, &denied) {
			return fmt.Errorf("%w: %w; have an administrator record it once: "+
				"temporal operator namespace update -n %s --data %s=%s", ErrNamespaceNotClaimable, err, namespace, NamespaceOwnerKey, deployment)
		}
		if err != nil {
			return fmt.Errorf("claim namespace %s for deployment %s: %w", namespace, deployment, err)
		}
		select {
		case <-time.After(settle):
		case <-ctx.Done():
			return ctx.Err()
		}
		if owner, err = namespaceOwner(ctx, svc, namespace); err != nil {
			return err
		}
	}
	if owner != deployment {
		return fmt.Errorf("%w: namespace %q is used by deployment %s, and this database is deployment %s. "+
			"Two deployments on one namespace would share workflow IDs (checkout-<order number>) and each other's payments: "+
			"give this deployment its own TEMPORAL_NAMESPACE, or point DATABASE_URL at the database of deployment %s",
			ErrNamespaceOwned, namespace, owner, deployment, owner)
	}
	return nil
}

// namespaceOwner reads the deployment recorded in the namespace's data ("" when none).
func namespaceOwner(ctx context.Context, svc workflowservice.WorkflowServiceClient, namespace string) (string, error) {
	resp, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return "", fmt.Errorf("describe namespace %s: %w", namespace, err)
	}
	return resp.GetNamespaceInfo().GetData()[NamespaceOwnerKey], nil
}

// NamespaceGuard holds the API's checkouts until the namespace is known to belong to this
// deployment: the API may start while Temporal is down, but it signals no workflow before the
// claim is verified.
type NamespaceGuard struct {
	mu       sync.Mutex
	verified bool
}

// Ready returns nil once the namespace is verified, and an unavailable error before.
func (g *NamespaceGuard) Ready() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.verified {
		return unavailable(errors.New("the Temporal namespace is not verified yet"))
	}
	return nil
}

// Verify claims the namespace (ClaimNamespace), retrying every interval while Temporal cannot
// be reached, until it is verified, another deployment is found to own it (ErrNamespaceOwned) or
// ctx ends. onRetry, when not nil, is told of each failed attempt.
func (g *NamespaceGuard) Verify(ctx context.Context, svc workflowservice.WorkflowServiceClient, namespace, deployment string, interval time.Duration, onRetry func(error)) error {
	for {
		err := ClaimNamespace(ctx, svc, namespace, deployment, time.Second)
		if err == nil {
			g.mu.Lock()
			g.verified = true
			g.mu.Unlock()
			return nil
		}
		if errors.Is(err, ErrNamespaceOwned) || errors.Is(err, ErrNamespaceNotClaimable) || ctx.Err() != nil {
			return err
		}
		if onRetry != nil {
			onRetry(err)
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// RegisterNamespace creates a namespace (retention one day) with the checkout's search
// attributes and waits until it accepts work; an existing namespace only gets the missing
// attributes. Tests and new deployments use it.
func RegisterNamespace(ctx context.Context, c client.Client, name string) error {
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", name, err)
	}
	for {
		_, err = EnsureSearchAttributes(ctx, c, name)
		if err == nil {
			break
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("namespace %s: %w (last: %w)", name, ctx.Err(), err)
		}
	}
	for {
		_, err = c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: name, Query: SearchCheckoutStatus.GetName() + " = 'AwaitingPayment'"})
		if err == nil {
			return nil
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("namespace %s not ready: %w (last: %w)", name, ctx.Err(), err)
		}
	}
}
