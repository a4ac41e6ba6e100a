package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// searchAttributeTypes are the custom search attributes of DESIGN.md §4 and their types.
var searchAttributeTypes = map[string]enumspb.IndexedValueType{
	SearchOrderNumber.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SearchBasketID.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SearchUsername.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SearchCheckoutStatus.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SearchPaymentProcessor.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	SearchOrderTotal.GetName():       enumspb.INDEXED_VALUE_TYPE_DOUBLE,
	SearchRefundStatus.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// EnsureSearchAttributes registers the checkout's search attributes in the namespace, adding
// only those missing; it returns the names it added. A name registered with another type is an
// error.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	ops := c.OperatorService()
	existing, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	var added []string
	for name, typ := range searchAttributeTypes {
		have, ok := existing.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
			added = append(added, name)
		case have != typ:
			return nil, fmt.Errorf("search attribute %s is %s in %s, want %s", name, have, namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		return nil, fmt.Errorf("add search attributes to %s: %w", namespace, err)
	}
	return added, nil
}
