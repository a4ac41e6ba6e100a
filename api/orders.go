package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// OrderStore is what the handlers of orders.go need from the store: orders; *db.Store implements it.
type OrderStore interface {
	Order(ctx context.Context, number string) (commerce.Order, error)
	OrdersOfUser(ctx context.Context, userID int64, page commerce.Page) ([]commerce.Order, int64, error)
}

// orderLineResponse is an order line as edX serialises it.
type orderLineResponse struct {
	Title            string              `json:"title"`
	Quantity         int                 `json:"quantity"`
	Description      string              `json:"description"`
	Status           string              `json:"status"`
	LinePriceExclTax string              `json:"line_price_excl_tax"`
	UnitPriceExclTax string              `json:"unit_price_excl_tax"`
	Product          orderProductSummary `json:"product"`
	// EnrollmentCodes are the codes an enrollment-code line created (empty for other lines).
	EnrollmentCodes []string `json:"enrollment_codes"`
}

type orderProductSummary struct {
	ID         int64   `json:"id"`
	URL        string  `json:"url"`
	Title      string  `json:"title"`
	PartnerSKU string  `json:"partner_sku"`
	CourseID   *string `json:"course_id"`
}

type orderUser struct {
	Email    string `json:"email"`
	Username string `json:"username"`
}

// orderResponse is an order as edX's OrderSerializer shapes it.
type orderResponse struct {
	Number                      string              `json:"number"`
	Status                      string              `json:"status"`
	Currency                    string              `json:"currency"`
	DatePlaced                  string              `json:"date_placed"`
	TotalExclTax                string              `json:"total_excl_tax"`
	TotalBeforeDiscountsInclTax string              `json:"total_before_discounts_incl_tax"`
	Discount                    string              `json:"discount"`
	Lines                       []orderLineResponse `json:"lines"`
	User                        orderUser           `json:"user"`
	Vouchers                    []orderVoucher      `json:"vouchers"`
	PaymentProcessor            string              `json:"payment_processor"`
	PaymentMethod               string              `json:"payment_method"`
	BasketDiscounts             []basketDiscount    `json:"basket_discounts"`
	// Notes are shown to staff only: what happened to the order (errors, ops actions, refunds).
	Notes []orderNote `json:"notes,omitempty"`
}

// orderNote is one order note in the staff's view of an order.
type orderNote struct {
	Type    string `json:"note_type"`
	Message string `json:"message"`
	Created string `json:"created"`
}

// staffName is the username of the staff user making the request ("" otherwise).
func staffName(c *gin.Context) string {
	if u, ok := currentUser(c); ok && u.IsStaff {
		return u.Username
	}
	return ""
}

type orderVoucher struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
}

// basketDiscount is one offer's discount on an order (edX's basket_discounts).
type basketDiscount struct {
	Amount        string  `json:"amount"`
	BenefitValue  string  `json:"benefit_value"`
	BenefitType   string  `json:"benefit_type"`
	Code          *string `json:"code"`
	ConditionName string  `json:"condition_name"`
	ContainsOffer bool    `json:"contains_offer"`
	Currency      string  `json:"currency"`
	OfferType     string  `json:"offer_type"`
}

func (s *Server) toOrderResponse(c *gin.Context, o commerce.Order) orderResponse {
	out := orderResponse{
		Number: o.Number, Status: string(o.Status), Currency: o.Currency,
		DatePlaced: o.DatePlaced.UTC().Format(time.RFC3339), TotalExclTax: commerce.FormatMoney(o.TotalExclTax),
		TotalBeforeDiscountsInclTax: commerce.FormatMoney(o.TotalBeforeDiscountsInclTax),
		Discount:                    commerce.FormatMoney(o.Discount()), Lines: make([]orderLineResponse, len(o.Lines)),
		User: orderUser{Email: o.Email, Username: o.Username}, Vouchers: []orderVoucher{}, BasketDiscounts: []basketDiscount{},
		PaymentProcessor: o.PaymentProcessor, PaymentMethod: o.PaymentProcessor,
	}
	if staffName(c) != "" {
		for _, n := range o.Notes {
			out.Notes = append(out.Notes, orderNote{Type: n.Type, Message: n.Message, Created: n.CreatedAt.UTC().Format(time.RFC3339)})
		}
	}
	for _, d := range o.Discounts {
		bd := basketDiscount{Amount: commerce.FormatMoney(d.Amount), BenefitValue: commerce.FormatMoney(d.BenefitValue),
			BenefitType: string(d.BenefitType), ConditionName: d.Name, ContainsOffer: d.OfferID != 0, Currency: o.Currency, OfferType: string(d.Type)}
		if d.VoucherCode != "" {
			code := d.VoucherCode
			bd.Code = &code
			if !slices.ContainsFunc(out.Vouchers, func(v orderVoucher) bool { return v.Code == code }) {
				out.Vouchers = append(out.Vouchers, orderVoucher{ID: d.VoucherID, Code: code})
			}
		}
		out.BasketDiscounts = append(out.BasketDiscounts, bd)
	}
	if o.Payment != nil && o.Payment.Label != "" {
		out.PaymentMethod = o.Payment.Label
	}
	for i, l := range o.Lines {
		line := orderLineResponse{
			Title: l.Title, Quantity: l.Quantity, Description: l.Title, Status: string(l.Status),
			LinePriceExclTax: commerce.FormatMoney(l.LinePrice), UnitPriceExclTax: commerce.FormatMoney(l.UnitPrice),
			Product:         orderProductSummary{ID: l.ProductID, URL: absoluteURL(c, "/api/v2/products/%d/", l.ProductID), Title: l.Title, PartnerSKU: l.SKU},
			EnrollmentCodes: []string{},
		}
		for _, v := range l.EnrollmentCodes {
			line.EnrollmentCodes = append(line.EnrollmentCodes, v.Code)
		}
		if l.CourseID != "" {
			id := l.CourseID
			line.Product.CourseID = &id
		}
		out.Lines[i] = line
	}
	return out
}

// listOrders lists the caller's orders; staff may name another user with ?username=.
func (s *Server) listOrders(c *gin.Context) {
	user, _ := currentUser(c)
	respondPage(s, c, func(p commerce.Page) ([]commerce.Order, int64, error) {
		owner := user
		if name, ok := c.GetQuery("username"); ok && name != user.Username {
			if !user.IsStaff {
				return nil, 0, commerce.Errorf(commerce.EForbidden, "You do not have permission to view the orders of another user.")
			}
			var err error
			owner, err = s.store.UserByUsername(c.Request.Context(), name)
			if commerce.ErrorCodeOf(err) == commerce.ENotFound {
				return nil, 0, nil // an unknown user has no orders
			} else if err != nil {
				return nil, 0, err
			}
		}
		return s.store.OrdersOfUser(c.Request.Context(), owner.ID, p)
	}, func(o commerce.Order) orderResponse { return s.toOrderResponse(c, o) })
}

func (s *Server) getOrder(c *gin.Context) {
	user, _ := currentUser(c)
	s.showOrder(c, user, c.Param("number"))
}

// showOrder answers with an order visible to user (its owner or staff); to anyone else it does
// not exist.
func (s *Server) showOrder(c *gin.Context, user commerce.User, number string) {
	o, err := s.store.Order(c.Request.Context(), number)
	if err == nil {
		err = visibleTo(user, o.UserID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toOrderResponse(c, o))
}

// fulfillOrder asks the order's checkout to fulfil it again (staff). A Complete order is 406.
func (s *Server) fulfillOrder(c *gin.Context) {
	ctx := c.Request.Context()
	number := c.Param("number")
	o, err := s.store.Order(ctx, number)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !o.Fulfillable() {
		s.fail(c, commerce.Errorf(commerce.ENotAcceptable, "Order %s is %s; it cannot be fulfilled again.", number, o.Status))
		return
	}
	if s.checkouts == nil {
		s.fail(c, commerce.Errorf(commerce.EUnavailable, "Checkout is not configured on this server."))
		return
	}
	co, _, err := s.store.CheckoutByOrderNumber(ctx, number)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.checkouts.RetryFulfillment(ctx, co, staffName(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toOrderResponse(c, o))
}

// enrollmentCodeCSV lets the buyer (or staff) download the enrollment codes of an order.
func (s *Server) enrollmentCodeCSV(c *gin.Context) {
	user, _ := currentUser(c)
	number := c.Param("number")
	o, err := s.store.Order(c.Request.Context(), number)
	if err == nil {
		err = visibleTo(user, o.UserID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", "attachment; filename=\"enrollment-codes-"+number+".csv\"")
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write([]string{"code", "redeem_url", "course_id", "title", "expires"})
	for _, l := range o.Lines {
		for _, v := range l.EnrollmentCodes {
			_ = w.Write([]string{v.Code, s.redeemURL(v.Code), l.CourseID, l.Title, v.End.UTC().Format(time.RFC3339)})
		}
	}
	w.Flush()
}
