package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// RefundStore is what the handlers of refunds.go need from the store: refunds; *db.Store
// implements it.
type RefundStore interface {
	// CreateRefunds refunds the owner's lines of a course or of an order; EInvalid names an
	// order that is not the owner's or a request with neither.
	CreateRefunds(ctx context.Context, owner commerce.User, courseID, orderNumber string) ([]commerce.Refund, error)
	// Refund returns a refund with its lines, or commerce.ErrNotFound.
	Refund(ctx context.Context, id int64) (commerce.Refund, error)
	// SetRefundStatus moves a refund; a move edX does not allow is EConflict.
	SetRefundStatus(ctx context.Context, id int64, status commerce.RefundStatus) (commerce.Refund, error)
}

// Refunds runs refund workflows; *workflows.Refunds implements it. Errors wrap
// commerce.ErrUnavailable when Temporal cannot be reached.
type Refunds interface {
	// Approve starts (or, if it waits for a decision, resumes) the refund's workflow: credit the
	// processor once, then revoke the enrollments unless revokeFulfillment is false.
	Approve(ctx context.Context, r commerce.Refund, revokeFulfillment bool) error
}

// refundLineResponse is one line of a refund.
type refundLineResponse struct {
	ID                int64  `json:"id"`
	OrderLine         int64  `json:"order_line"`
	PartnerSKU        string `json:"partner_sku"`
	Title             string `json:"title"`
	CourseID          string `json:"course_id"`
	Mode              string `json:"mode"`
	LineCreditExclTax string `json:"line_credit_excl_tax"`
	Quantity          int    `json:"quantity"`
	Status            string `json:"status"`
}

// refundResponse is a refund as edX's RefundSerializer shapes it, with the order by number, the
// user by username and email, and the lines.
type refundResponse struct {
	ID                 int64                `json:"id"`
	Order              *string              `json:"order"`
	User               orderUser            `json:"user"`
	TotalCreditExclTax string               `json:"total_credit_excl_tax"`
	Currency           string               `json:"currency"`
	Status             string               `json:"status"`
	Created            string               `json:"created"`
	Modified           string               `json:"modified"`
	Lines              []refundLineResponse `json:"lines"`
}

func toRefundResponse(r commerce.Refund) refundResponse {
	out := refundResponse{
		ID: r.ID, User: orderUser{Email: r.Email, Username: r.Username},
		TotalCreditExclTax: commerce.FormatMoney(r.Total), Currency: r.Currency, Status: string(r.Status),
		Created: r.CreatedAt.UTC().Format(time.RFC3339), Modified: r.UpdatedAt.UTC().Format(time.RFC3339),
		Lines: make([]refundLineResponse, len(r.Lines)),
	}
	if r.OrderNumber != "" {
		number := r.OrderNumber
		out.Order = &number
	}
	for i, l := range r.Lines {
		out.Lines[i] = refundLineResponse{
			ID: l.ID, OrderLine: l.OrderLineID, PartnerSKU: l.SKU, Title: l.Title, CourseID: l.CourseID, Mode: l.Mode,
			LineCreditExclTax: commerce.FormatMoney(l.Credit), Quantity: l.Quantity, Status: string(l.Status),
		}
	}
	return out
}

// createRefundRequest is the body of POST /api/v2/refunds/.
type createRefundRequest struct {
	Username    string `json:"username"`
	CourseID    string `json:"course_id"`
	OrderNumber string `json:"order_number"`
}

// createRefunds refunds a learner's lines of a course (or of an order), as edX's
// RefundCreateView: the learner themself or staff (CanActForUser), 201 with the ids of the
// refunds created, 200 [] when nothing is left to refund. A refund of nothing (zero credit) is
// approved at once.
func (s *Server) createRefunds(c *gin.Context) {
	var req createRefundRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	user, _ := currentUser(c)
	if req.Username == "" || (req.Username != user.Username && !user.IsStaff) {
		detail(c, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	ctx := c.Request.Context()
	owner := user
	if req.Username != user.Username {
		var err error
		owner, err = s.store.UserByUsername(ctx, req.Username)
		if commerce.ErrorCodeOf(err) == commerce.ENotFound {
			err = commerce.Errorf(commerce.EInvalid, "User \"%s\" does not exist.", req.Username)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
	}
	refunds, err := s.store.CreateRefunds(ctx, owner, strings.TrimSpace(req.CourseID), strings.TrimSpace(req.OrderNumber))
	if err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]int64, 0, len(refunds))
	for _, r := range refunds {
		ids = append(ids, r.ID)
		if r.Total.IsZero() {
			s.approveFreeRefund(ctx, r)
		}
	}
	if len(ids) == 0 {
		c.JSON(http.StatusOK, ids)
		return
	}
	c.JSON(http.StatusCreated, ids)
}

// approveFreeRefund approves a refund that credits nothing, as edX does on creation. The refund
// exists whatever happens here: when its workflow cannot start, it stays Open for staff to approve.
func (s *Server) approveFreeRefund(ctx context.Context, r commerce.Refund) {
	if s.refunds == nil {
		s.log.WarnContext(ctx, "refund of nothing left Open: refunds are not configured", "refund_id", r.ID, "order_number", r.OrderNumber)
		return
	}
	if err := s.refunds.Approve(ctx, r, true); err != nil {
		s.log.ErrorContext(ctx, "refund of nothing left Open: approval failed", "refund_id", r.ID, "order_number", r.OrderNumber, "err", err)
	}
}

// getRefund shows a refund to its learner or to staff; to anyone else it does not exist.
func (s *Server) getRefund(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	user, _ := currentUser(c)
	r, err := s.store.Refund(c.Request.Context(), id)
	if err == nil {
		err = visibleTo(user, r.UserID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toRefundResponse(r))
}

// processRefundRequest is the body of PUT /api/v2/refunds/{id}/process/.
type processRefundRequest struct {
	Action string `json:"action"`
}

// processRefund carries out staff's decision on a refund (edX's RefundProcessView): approve and
// approve_payment_only hand the refund to its workflow (the latter keeps the enrollments), deny
// denies an Open refund. It answers the refund as it is now.
func (s *Server) processRefund(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var req processRefundRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	action := commerce.RefundAction(strings.ToLower(req.Action))
	if action != commerce.RefundApprove && action != commerce.RefundApprovePaymentOnly && action != commerce.RefundDeny {
		s.fail(c, commerce.FieldError("action", "The action [%s] is not valid.", action))
		return
	}
	ctx := c.Request.Context()
	r, err := s.store.Refund(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if action == commerce.RefundDeny {
		r, err = s.denyRefund(ctx, r)
	} else {
		r, err = s.approveRefund(ctx, r, action == commerce.RefundApprove)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toRefundResponse(r))
}

// approveRefund hands a refund to its workflow and returns it as it is now. A Complete refund is
// approved already (edX answers success); a Denied one cannot be.
func (s *Server) approveRefund(ctx context.Context, r commerce.Refund, revokeFulfillment bool) (commerce.Refund, error) {
	switch {
	case r.Status == commerce.RefundComplete:
		return r, nil
	case r.Status.Final():
		return r, commerce.Errorf(commerce.EInvalid, "Refund %d is %s; it cannot be approved.", r.ID, r.Status)
	case s.refunds == nil:
		return r, commerce.Errorf(commerce.EUnavailable, "Refunds are not configured on this server.")
	}
	if err := s.refunds.Approve(ctx, r, revokeFulfillment); err != nil {
		return r, fmt.Errorf("approve refund %d: %w", r.ID, err)
	}
	return s.store.Refund(ctx, r.ID)
}

// denyRefund denies an Open refund and its lines. Denying a Denied refund changes nothing (edX
// answers success); a Complete one is refused (400), one being processed too (409).
func (s *Server) denyRefund(ctx context.Context, r commerce.Refund) (commerce.Refund, error) {
	switch {
	case r.Status == commerce.RefundDenied:
		return r, nil
	case r.Status.Final():
		return r, commerce.Errorf(commerce.EInvalid, "Refund %d is %s; only an Open refund can be denied.", r.ID, r.Status)
	case r.Status != commerce.RefundOpen:
		return r, commerce.Errorf(commerce.EConflict, "Refund %d is %s; only an Open refund can be denied.", r.ID, r.Status)
	}
	return s.store.SetRefundStatus(ctx, r.ID, commerce.RefundDenied)
}
