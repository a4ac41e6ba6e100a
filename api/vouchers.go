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

// ownBasket loads a basket the caller owns (staff may act on any); others get 404.
func (s *Server) ownBasket(c *gin.Context) (commerce.Basket, commerce.User, bool) {
	user, _ := currentUser(c)
	id, ok := pathID(c)
	if !ok {
		return commerce.Basket{}, user, false
	}
	b, err := s.store.Basket(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return b, user, false
	}
	if b.OwnerID != user.ID && !user.IsStaff {
		detail(c, http.StatusNotFound, "Not found.")
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
	var req voucherRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	if req.Code == nil || strings.TrimSpace(*req.Code) == "" {
		s.fail(c, commerce.FieldError("code", "This field is required."))
		return
	}
	ctx := c.Request.Context()
	voucher, err := s.checkVoucher(ctx, b, *req.Code)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.SetBasketVoucher(ctx, b.ID, voucher.ID); err != nil {
		s.fail(c, err)
		return
	}
	s.answerBasket(c, b.ID)
}

// checkVoucher runs edX's checks of a code against a basket and returns the voucher.
func (s *Server) checkVoucher(ctx context.Context, b commerce.Basket, raw string) (commerce.Voucher, error) {
	shown := strings.TrimSpace(raw)
	if b.Status != commerce.BasketOpen {
		return commerce.Voucher{}, voucherError("Basket [%d] is %s; coupons apply to open baskets only.", b.ID, b.Status)
	}
	if len(b.Lines) == 0 {
		return commerce.Voucher{}, voucherError("You can't apply a coupon to an empty basket.")
	}
	code, err := commerce.NormalizeCode(raw)
	if err != nil {
		return commerce.Voucher{}, voucherError("Coupon code '%s' does not exist.", shown)
	}
	current, err := s.store.BasketVoucher(ctx, b.ID)
	if err != nil {
		return commerce.Voucher{}, err
	}
	if current != nil && current.Code == code {
		return commerce.Voucher{}, voucherError("You have already added coupon code '%s' to your basket.", code)
	}
	v, err := s.store.VoucherByCode(ctx, code)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return commerce.Voucher{}, voucherError("Coupon code '%s' does not exist.", code)
	} else if err != nil {
		return commerce.Voucher{}, err
	}
	now := s.now()
	if v.IsExpired(now) {
		return v, voucherError("Coupon code '%s' has expired.", code)
	}
	if !v.IsActive(now) {
		return v, voucherError("Coupon code '%s' is not active.", code)
	}
	owner, err := s.store.UserByUsername(ctx, b.OwnerUsername)
	if err != nil {
		return v, err
	}
	uses, err := s.store.VoucherUses(ctx, v.ID, owner.ID, b.ID)
	if err != nil {
		return v, err
	}
	if problem := v.AvailabilityProblem(uses, false); problem != "" {
		return v, voucherError("Coupon code '%s' is not available. %s", code, problem)
	}
	lines := commerce.PriceLines(b.Lines)
	inRange := false
	for _, o := range v.Offers {
		for _, l := range lines {
			inRange = inRange || o.Range.Contains(l)
		}
	}
	if !inRange {
		return v, voucherError("Coupon code '%s' is not valid for this basket.", code)
	}
	if err := s.store.FillOfferUsage(ctx, v.Offers, owner.ID); err != nil {
		return v, err
	}
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool { return o.Status == commerce.OfferOpen && o.MaxApplications() > 0 }) {
		return v, voucherError("Coupon code '%s' has already been used.", code)
	}
	if !slices.ContainsFunc(v.Offers, func(o commerce.Offer) bool { return commerce.EmailDomainMatches(owner.Email, o.EmailDomains) }) {
		return v, voucherError("Coupon code '%s' is not available for the email address %s.", code, owner.Email)
	}
	pricing, err := s.store.Price(ctx, commerce.PricingRequest{Lines: lines, Voucher: &v, Buyer: &owner})
	if err != nil {
		return v, err
	}
	if !slices.ContainsFunc(pricing.Offers, func(a commerce.AppliedOffer) bool { return a.VoucherID == v.ID }) {
		return v, voucherError("Basket does not qualify for coupon code %s.", code)
	}
	return v, nil
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

func (s *Server) answerBasket(c *gin.Context, id int64) {
	b, err := s.store.Basket(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.toBasketResponse(c.Request.Context(), b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
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
		detail(c, http.StatusBadRequest, "A coupon code is required.")
		return
	}
	ctx := c.Request.Context()
	v, err := s.store.VoucherByCode(ctx, code)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		detail(c, http.StatusBadRequest, fmt.Sprintf("Coupon code '%s' does not exist.", strings.ToUpper(code)))
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
