package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// VoucherStore is what the handlers of vouchers.go need from the store: vouchers and the codes on baskets; *db.Store implements it.
type VoucherStore interface {
	VoucherByCode(ctx context.Context, code string) (commerce.Voucher, error)
	CachedVoucherByCode(ctx context.Context, code string) (commerce.Voucher, error)
	VoucherUses(ctx context.Context, voucherID, userID, basketID int64) (commerce.VoucherUses, error)
	CachedVoucherUses(ctx context.Context, voucherID, userID int64) (commerce.VoucherUses, error)
	Vouchers(ctx context.Context, code string, page commerce.Page) ([]commerce.Voucher, int64, error)
	SetBasketVoucher(ctx context.Context, basketID, voucherID int64) error
	RemoveBasketVoucher(ctx context.Context, basketID, voucherID int64) error
	BasketVoucher(ctx context.Context, basketID int64) (*commerce.Voucher, error)
	ProductsInRange(ctx context.Context, r commerce.Range, limit int) ([]commerce.Product, error)
}

// voucherRequest is the body of POST /api/v2/baskets/{id}/vouchers/.
type voucherRequest struct {
	Code *string `json:"code"`
}

// voucherError is the 400 edX answers when a code cannot be applied; both messages are the same
// learner-facing text.
func voucherError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return commerce.UserError(commerce.EInvalid, msg, msg)
}

// ownBasket loads the basket of the path if the caller may see it (owner or staff).
func (s *Server) ownBasket(c *gin.Context) (commerce.Basket, commerce.User, bool) {
	user, _ := currentUser(c)
	id, ok := s.pathID(c)
	if !ok {
		return commerce.Basket{}, user, false
	}
	b, err := s.store.Basket(c.Request.Context(), id)
	if err == nil {
		err = visibleTo(user, b.OwnerID)
	}
	if err != nil {
		s.fail(c, err)
		return b, user, false
	}
	return b, user, true
}

// addVoucher applies a code to the basket with edX's checks, in edX's order; a new code
// replaces the old one (one voucher per basket).
func (s *Server) addVoucher(c *gin.Context) {
	b, _, ok := s.ownBasket(c)
	if !ok {
		return
	}
	code, err := voucherCode(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	voucher, err := s.checkVoucher(ctx, b, code)
	if err == nil {
		err = s.requireDiscount(ctx, b, voucher)
	}
	if err == nil {
		err = s.store.SetBasketVoucher(ctx, b.ID, voucher.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerBasket(c, b.ID)
}

// voucherCode reads the code of a voucher request body.
func voucherCode(c *gin.Context) (string, error) {
	var req voucherRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return "", err
	}
	if req.Code == nil || strings.TrimSpace(*req.Code) == "" {
		return "", commerce.FieldError("code", "This field is required.")
	}
	return *req.Code, nil
}

// checkVoucher runs edX's checks of a code against an open basket, in edX's order, and returns
// the voucher: the basket is open and not empty, the code is not already on it, it exists and
// it is valid for the basket's lines and owner (validVoucher). Whether it discounts anything is
// discountsBasket's question.
func (s *Server) checkVoucher(ctx context.Context, b commerce.Basket, raw string) (commerce.Voucher, error) {
	if b.Status != commerce.BasketOpen {
		return commerce.Voucher{}, voucherError("Basket [%d] is %s; coupons apply to open baskets only.", b.ID, b.Status)
	}
	if len(b.Lines) == 0 {
		return commerce.Voucher{}, voucherError("You can't apply a coupon to an empty basket.")
	}
	code, err := commerce.NormalizeCode(raw)
	if err != nil {
		return commerce.Voucher{}, voucherError("Coupon code '%s' does not exist.", strings.TrimSpace(raw))
	}
	current, err := s.store.BasketVoucher(ctx, b.ID)
	if err != nil {
		return commerce.Voucher{}, err
	}
	if current != nil && current.Code == code {
		return commerce.Voucher{}, voucherError("You have already added coupon code '%s' to your basket.", code)
	}
	owner, err := s.store.UserByUsername(ctx, b.OwnerUsername)
	if err != nil {
		return commerce.Voucher{}, err
	}
	return s.validVoucher(ctx, code, commerce.PriceLines(b.Lines), owner, b.ID)
}

// validVoucher returns the voucher of code if owner may use it on lines now, with edX's
// message for the first check that fails: unknown, expired, not active, not available to the
// owner, not for these products, used up, or not for the owner's email. basketID's own
// reservations do not count (0 for a basket not yet written).
func (s *Server) validVoucher(ctx context.Context, raw string, lines []commerce.PriceLine, owner commerce.User, basketID int64) (commerce.Voucher, error) {
	code, err := commerce.NormalizeCode(raw)
	if err != nil {
		return commerce.Voucher{}, voucherError("Coupon code '%s' does not exist.", strings.TrimSpace(raw))
	}
	v, err := s.store.VoucherByCode(ctx, code)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return v, voucherError("Coupon code '%s' does not exist.", code)
	} else if err != nil {
		return v, err
	}
	now := s.now()
	if v.IsExpired(now) {
		return v, voucherError("Coupon code '%s' has expired.", code)
	}
	if !v.IsActive(now) {
		return v, voucherError("Coupon code '%s' is not active.", code)
	}
	uses, err := s.store.VoucherUses(ctx, v.ID, owner.ID, basketID)
	if err != nil {
		return v, err
	}
	if problem := v.AvailabilityProblem(uses, false); problem != "" {
		return v, voucherError("Coupon code '%s' is not available. %s", code, problem)
	}
	return v, s.voucherFits(ctx, v, lines, owner)
}

// voucherFits checks that the voucher's offers cover one of the lines, are not used up, and
// admit the owner's email.
func (s *Server) voucherFits(ctx context.Context, v commerce.Voucher, lines []commerce.PriceLine, owner commerce.User) error {
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool { return slices.ContainsFunc(lines, o.Range.Contains) }) {
		return voucherError("Coupon code '%s' is not valid for this basket.", v.Code)
	}
	if err := s.store.FillOfferUsage(ctx, v.Offers, owner.ID); err != nil {
		return err
	}
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool { return o.Status == commerce.OfferOpen && o.MaxApplications() > 0 }) {
		return voucherError("Coupon code '%s' has already been used.", v.Code)
	}
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool { return commerce.EmailDomainMatches(owner.Email, o.EmailDomains) }) {
		return voucherError("Coupon code '%s' is not available for the email address %s.", v.Code, owner.Email)
	}
	return nil
}

// discountsBasket reports whether the voucher takes anything off lines for owner.
func (s *Server) discountsBasket(ctx context.Context, v commerce.Voucher, lines []commerce.PriceLine, owner commerce.User) (bool, error) {
	pricing, err := s.store.Price(ctx, commerce.PricingRequest{Lines: lines, Voucher: &v, Buyer: &owner})
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(pricing.Offers, func(a commerce.AppliedOffer) bool { return a.VoucherID == v.ID }), nil
}

// noDiscountText is edX's text for a valid code that takes nothing off the basket.
func noDiscountText(code string) string {
	return fmt.Sprintf("Basket does not qualify for coupon code %s.", code)
}

// requireDiscount refuses a voucher that takes nothing off the basket.
func (s *Server) requireDiscount(ctx context.Context, b commerce.Basket, v commerce.Voucher) error {
	owner, err := s.store.UserByUsername(ctx, b.OwnerUsername)
	if err != nil {
		return err
	}
	ok, err := s.discountsBasket(ctx, v, commerce.PriceLines(b.Lines), owner)
	if err == nil && !ok {
		err = voucherError("%s", noDiscountText(v.Code))
	}
	return err
}

// removeVoucher takes a code off the basket.
func (s *Server) removeVoucher(c *gin.Context) {
	b, _, ok := s.ownBasket(c)
	if !ok {
		return
	}
	if b.Status != commerce.BasketOpen {
		s.fail(c, voucherError("Basket [%d] is %s; coupons apply to open baskets only.", b.ID, b.Status))
		return
	}
	ctx := c.Request.Context()
	v, err := s.store.VoucherByCode(ctx, c.Param("code"))
	if err == nil {
		err = s.store.RemoveBasketVoucher(ctx, b.ID, v.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answerBasket(c, b.ID)
}

// answerBasket answers with the basket of that id, as it is now.
func (s *Server) answerBasket(c *gin.Context, id int64) {
	b, err := s.store.Basket(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondBasket(c, b)
}

// calculationVoucher returns the voucher of a code for calculate, or nil when the code is empty,
// unknown, not active, not for these lines or not available to the buyer: an invalid code is
// ignored, as edX does.
func (s *Server) calculationVoucher(ctx context.Context, code string, lines []commerce.PriceLine, buyer *commerce.User) *commerce.Voucher {
	if strings.TrimSpace(code) == "" {
		return nil
	}
	v, err := s.store.CachedVoucherByCode(ctx, code)
	if err != nil {
		return nil
	}
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool {
		return slices.ContainsFunc(lines, o.Range.Contains)
	}) {
		return nil
	}
	uses := commerce.VoucherUses{}
	if buyer != nil {
		if uses, err = s.store.CachedVoucherUses(ctx, v.ID, buyer.ID); err != nil {
			return nil
		}
	}
	if v.UseProblem(uses, buyer == nil, s.now()) != "" {
		return nil
	}
	return &v
}

// voucherResponse is a voucher as edX's VoucherSerializer shapes it.
type voucherResponse struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	Code               string         `json:"code"`
	RedeemURL          string         `json:"redeem_url"`
	Usage              string         `json:"usage"`
	StartDatetime      time.Time      `json:"start_datetime"`
	EndDatetime        time.Time      `json:"end_datetime"`
	NumBasketAdditions int            `json:"num_basket_additions"`
	NumOrders          int            `json:"num_orders"`
	TotalDiscount      string         `json:"total_discount"`
	DateCreated        time.Time      `json:"date_created"`
	Offers             []int64        `json:"offers"`
	Benefit            *benefitOutput `json:"benefit"`
}

type benefitOutput struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (s *Server) redeemURL(code string) string {
	return s.publicURL + "/coupons/offer/?code=" + url.QueryEscape(code)
}

func (s *Server) toVoucherResponse(v commerce.Voucher) voucherResponse {
	out := voucherResponse{
		ID: v.ID, Name: v.Name, Code: v.Code, RedeemURL: s.redeemURL(v.Code), Usage: string(v.Usage),
		StartDatetime: v.Start, EndDatetime: v.End, NumBasketAdditions: v.NumBasketAdditions, NumOrders: v.NumOrders,
		TotalDiscount: commerce.FormatMoney(v.TotalDiscount), DateCreated: v.CreatedAt, Offers: []int64{},
	}
	for _, o := range v.Offers {
		out.Offers = append(out.Offers, o.ID)
	}
	if len(v.Offers) > 0 {
		out.Benefit = &benefitOutput{Type: string(v.Offers[0].Benefit.Type), Value: commerce.FormatMoney(v.Offers[0].Benefit.Value)}
	}
	return out
}

// listVouchers lists vouchers (staff), optionally the one with ?code=.
func (s *Server) listVouchers(c *gin.Context) {
	respondPage(s, c, func(p commerce.Page) ([]commerce.Voucher, int64, error) {
		return s.store.Vouchers(c.Request.Context(), c.Query("code"), p)
	}, s.toVoucherResponse)
}

// voucherOfferResponse is a product a voucher applies to, as the offer landing page shows it.
type voucherOfferResponse struct {
	ID               int64               `json:"id"`
	Title            string              `json:"title"`
	CourseID         *string             `json:"course_id"`
	SeatType         string              `json:"seat_type"`
	Benefit          benefitOutput       `json:"benefit"`
	StockRecords     stockRecordResponse `json:"stockrecords"`
	VoucherEndDate   time.Time           `json:"voucher_end_date"`
	IsAvailableToBuy bool                `json:"is_available_to_buy"`
}

// voucherOffers lists the products a code applies to (anonymous; edX's offer landing page).
func (s *Server) voucherOffers(c *gin.Context) {
	code := c.Query("code")
	if strings.TrimSpace(code) == "" {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "A coupon code is required."))
		return
	}
	ctx := c.Request.Context()
	v, err := s.store.VoucherByCode(ctx, code)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "Coupon code '%s' does not exist.", strings.ToUpper(code)))
		return
	} else if err != nil {
		s.fail(c, err)
		return
	}
	results := []voucherOfferResponse{}
	seen := map[int64]bool{}
	for _, o := range v.Offers {
		products, err := s.store.ProductsInRange(ctx, o.Range, 100)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, p := range products {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			r := voucherOfferResponse{ID: p.ID, Title: p.Title, SeatType: p.CertificateType,
				Benefit:      benefitOutput{Type: string(o.Benefit.Type), Value: commerce.FormatMoney(o.Benefit.Value)},
				StockRecords: s.toStockRecordResponse(p.StockRecord), VoucherEndDate: v.End, IsAvailableToBuy: p.AvailableAt(s.now())}
			if p.CourseID != "" {
				id := p.CourseID
				r.CourseID = &id
			}
			results = append(results, r)
		}
	}
	c.JSON(http.StatusOK, gin.H{"next": nil, "results": results})
}
