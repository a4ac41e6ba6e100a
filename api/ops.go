package api

import (
	"context"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// OpsStore is what the handlers of ops.go need from the store: what operations staff look for;
// *db.Store implements it.
type OpsStore interface {
	// StuckCheckouts returns a page of the checkouts needing attention or in flight and unchanged
	// for longer than olderThan, oldest first, and their count.
	StuckCheckouts(ctx context.Context, olderThan time.Duration, page commerce.Page) ([]commerce.StuckCheckout, int64, error)
}

const (
	// defaultStuckAfter is how long an in-flight checkout may stay unchanged before it is listed.
	defaultStuckAfter = 15 * time.Minute
	minStuckAfter     = time.Minute
	maxStuckAfter     = 30 * 24 * time.Hour
)

// stuckOrderResponse is one checkout ops should look at, with the ID of its workflow (DESIGN.md
// §4: workflows.CheckoutWorkflowID) to find it in the Temporal UI.
type stuckOrderResponse struct {
	OrderNumber string `json:"order_number"`
	Username    string `json:"username"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	Total       string `json:"total"`
	Currency    string `json:"currency"`
	Processor   string `json:"processor"`
	UpdatedAt   string `json:"updated_at"`
	WorkflowID  string `json:"workflow_id"`
}

func toStuckOrderResponse(sc commerce.StuckCheckout) stuckOrderResponse {
	return stuckOrderResponse{
		OrderNumber: sc.OrderNumber, Username: sc.Username, Status: string(sc.Status), Reason: sc.Reason,
		Total: commerce.FormatMoney(sc.Total), Currency: sc.Currency, Processor: sc.Processor,
		UpdatedAt: sc.UpdatedAt.UTC().Format(time.RFC3339), WorkflowID: "checkout-" + sc.OrderNumber,
	}
}

// stuckOrders lists, for staff, the checkouts that need attention and those awaiting payment,
// paid or fulfilling whose status has not changed for ?older_than= (a Go duration from 1m to
// 720h; 15m by default), oldest first, paginated.
func (s *Server) stuckOrders(c *gin.Context) {
	olderThan := defaultStuckAfter
	if v, ok := c.GetQuery("older_than"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < minStuckAfter || d > maxStuckAfter {
			s.fail(c, commerce.FieldError("older_than", "older_than must be a duration from %s to %s, such as 15m or 2h; got %q.",
				"1m", "720h", v))
			return
		}
		olderThan = d
	}
	respondPage(s, c, func(p commerce.Page) ([]commerce.StuckCheckout, int64, error) {
		return s.store.StuckCheckouts(c.Request.Context(), olderThan, p)
	}, toStuckOrderResponse)
}
