package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
)

// CouponStore is what the handlers of coupons.go need from the store: coupons; *db.Store implements it.
type CouponStore interface {
	CreateCoupon(ctx context.Context, partner string, spec commerce.CouponSpec) (commerce.Coupon, error)
	Coupon(ctx context.Context, id int64) (commerce.Coupon, error)
	Coupons(ctx context.Context, page commerce.Page) ([]commerce.Coupon, int64, error)
	UpdateCoupon(ctx context.Context, id int64, u commerce.CouponChanges) (commerce.Coupon, error)
	DeleteCoupon(ctx context.Context, id int64) error
}

// couponRequest is the body of POST and PUT /api/v2/coupons/.
type couponRequest struct {
	Title           *string         `json:"title"`
	Category        json.RawMessage `json:"category"`
	StockRecordIDs  []int64         `json:"stock_record_ids"`
	CourseSeatTypes json.RawMessage `json:"course_seat_types"`
	StartDatetime   *string         `json:"start_datetime"`
	EndDatetime     *string         `json:"end_datetime"`
	Code            *string         `json:"code"`
	BenefitType     *string         `json:"benefit_type"`
	BenefitValue    json.RawMessage `json:"benefit_value"`
	VoucherType     *string         `json:"voucher_type"`
	Quantity        *int            `json:"quantity"`
	MaxUses         *int            `json:"max_uses"`
	EmailDomains    *string         `json:"email_domains"`
	Note            *string         `json:"note"`
	Price           json.RawMessage `json:"price"`
}

// categoryName reads a category given as {"name": "..."} (edX) or as a plain string.
func categoryName(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s), nil
	}
	var obj struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", commerce.FieldError("category", "Expected {\"name\": ...} or a string.")
	}
	return strings.TrimSpace(obj.Name), nil
}

// seatTypes reads course_seat_types given as a list or a comma-separated string.
func seatTypes(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, commerce.FieldError("course_seat_types", "Expected a list of seat types.")
		}
		list = strings.Split(s, ",")
	}
	var out []string
	for _, t := range list {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

func parseMoneyField(raw json.RawMessage, field string) (*decimal.Decimal, error) {
	text, ok, err := rawText(raw)
	if err != nil {
		return nil, commerce.FieldError(field, "Expected an amount such as \"10.00\".")
	}
	if !ok {
		return nil, nil
	}
	d, err := commerce.ParsePrice(text)
	if err != nil {
		return nil, commerce.FieldError(field, "%s.", err.Error())
	}
	return &d, nil
}

func parseTimeField(v *string, field string) (*time.Time, error) {
	if v == nil || *v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, *v); err == nil {
			return &t, nil
		}
	}
	return nil, commerce.FieldError(field, "%q is not a date-time (RFC 3339).", *v)
}

func toCouponSpec(r couponRequest) (commerce.CouponSpec, error) {
	spec := commerce.CouponSpec{StockRecordIDs: r.StockRecordIDs, Quantity: 1}
	var err error
	if r.Title != nil {
		spec.Title = strings.TrimSpace(*r.Title)
	}
	if spec.Category, err = categoryName(r.Category); err != nil {
		return spec, err
	}
	if spec.SeatTypes, err = seatTypes(r.CourseSeatTypes); err != nil {
		return spec, err
	}
	start, err := parseTimeField(r.StartDatetime, "start_datetime")
	if err != nil {
		return spec, err
	}
	end, err := parseTimeField(r.EndDatetime, "end_datetime")
	if err != nil {
		return spec, err
	}
	if start != nil {
		spec.Start = *start
	}
	if end != nil {
		spec.End = *end
	}
	if r.Code != nil {
		spec.Code = strings.TrimSpace(*r.Code)
	}
	if r.BenefitType != nil {
		spec.BenefitType = commerce.BenefitType(*r.BenefitType)
	}
	value, err := parseMoneyField(r.BenefitValue, "benefit_value")
	if err != nil {
		return spec, err
	}
	if value == nil {
		return spec, commerce.FieldError("benefit_value", "This field is required.")
	}
	spec.BenefitValue = *value
	if r.VoucherType != nil {
		spec.VoucherType = commerce.VoucherUsage(*r.VoucherType)
	}
	if r.Quantity != nil {
		spec.Quantity = *r.Quantity
	}
	spec.MaxUses = r.MaxUses
	if r.EmailDomains != nil {
		spec.EmailDomains = commerce.ParseEmailDomains(*r.EmailDomains)
	}
	if r.Note != nil {
		spec.Note = *r.Note
	}
	price, err := parseMoneyField(r.Price, "price")
	if err != nil {
		return spec, err
	}
	if price != nil {
		spec.Price = *price
	}
	return spec, spec.Validate()
}

// couponResponse is a coupon as edX's CouponSerializer shapes it (the parts we have).
type couponResponse struct {
	ID              int64             `json:"id"`
	Title           string            `json:"title"`
	Category        map[string]string `json:"category"`
	BenefitType     string            `json:"benefit_type"`
	BenefitValue    string            `json:"benefit_value"`
	Code            *string           `json:"code"`
	CodeStatus      string            `json:"code_status"`
	CouponType      string            `json:"coupon_type"`
	CourseSeatTypes []string          `json:"course_seat_types"`
	EmailDomains    string            `json:"email_domains"`
	StartDate       time.Time         `json:"start_date"`
	EndDate         time.Time         `json:"end_date"`
	MaxUses         *int              `json:"max_uses"`
	Note            string            `json:"note"`
	NumUses         int               `json:"num_uses"`
	Price           string            `json:"price"`
	Quantity        int               `json:"quantity"`
	StockRecordIDs  []int64           `json:"stock_record_ids"`
	VoucherType     string            `json:"voucher_type"`
	PartnerSKU      string            `json:"partner_sku"`
	LastEdited      time.Time         `json:"last_edited"`
	CodesURL        string            `json:"codes_url"`
}

func (s *Server) toCouponResponse(c *gin.Context, cp commerce.Coupon) couponResponse {
	out := couponResponse{
		ID: cp.ID, Title: cp.Title, Category: map[string]string{"name": cp.Category}, BenefitType: string(cp.BenefitType),
		BenefitValue: commerce.FormatMoney(cp.BenefitValue), CodeStatus: cp.CodeStatus(s.now()), CouponType: cp.CouponType(),
		CourseSeatTypes: cp.SeatTypes, EmailDomains: strings.Join(cp.EmailDomains, ","), StartDate: cp.Start, EndDate: cp.End,
		MaxUses: cp.MaxUses, Note: cp.Note, NumUses: cp.NumUses, Price: commerce.FormatMoney(cp.Price), Quantity: len(cp.Vouchers),
		StockRecordIDs: cp.StockRecordIDs, VoucherType: string(cp.VoucherType), PartnerSKU: cp.SKU, LastEdited: cp.UpdatedAt,
		CodesURL: absoluteURL(c, "/api/v2/coupons/%d/codes/", cp.ID),
	}
	if out.CourseSeatTypes == nil {
		out.CourseSeatTypes = []string{}
	}
	if out.StockRecordIDs == nil {
		out.StockRecordIDs = []int64{}
	}
	if len(cp.Vouchers) == 1 {
		code := cp.Vouchers[0].Code
		out.Code = &code
	}
	return out
}

func (s *Server) createCoupon(c *gin.Context) {
	var req couponRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	spec, err := toCouponSpec(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	cp, err := s.store.CreateCoupon(c.Request.Context(), s.partner, spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := s.toCouponResponse(c, cp)
	c.JSON(http.StatusCreated, gin.H{"coupon_id": cp.ID, "coupon": out})
}

func (s *Server) listCoupons(c *gin.Context) {
	respondPage(s, c, func(p commerce.Page) ([]commerce.Coupon, int64, error) {
		return s.store.Coupons(c.Request.Context(), p)
	}, func(cp commerce.Coupon) couponResponse { return s.toCouponResponse(c, cp) })
}

func (s *Server) getCoupon(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	cp, err := s.store.Coupon(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toCouponResponse(c, cp))
}

// updateCoupon changes a coupon's title, category, note, dates, benefit value, max uses, email
// domains or price; other fields are refused.
func (s *Server) updateCoupon(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	var req couponRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	if req.StockRecordIDs != nil || req.CourseSeatTypes != nil || req.Code != nil || req.BenefitType != nil || req.VoucherType != nil || req.Quantity != nil {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "Only title, category, note, start_datetime, end_datetime, benefit_value, max_uses, email_domains and price can be changed."))
		return
	}
	var u commerce.CouponChanges
	var err error
	u.Title, u.Note, u.MaxUses = req.Title, req.Note, req.MaxUses
	if req.Category != nil {
		name, err := categoryName(req.Category)
		if err != nil {
			s.fail(c, err)
			return
		}
		u.Category = &name
	}
	if err = u.ValidateText(); err != nil {
		s.fail(c, err)
		return
	}
	if u.Start, err = parseTimeField(req.StartDatetime, "start_datetime"); err == nil {
		u.End, err = parseTimeField(req.EndDatetime, "end_datetime")
	}
	if err == nil {
		u.BenefitValue, err = parseMoneyField(req.BenefitValue, "benefit_value")
	}
	if err == nil {
		u.Price, err = parseMoneyField(req.Price, "price")
	}
	if err == nil && req.EmailDomains != nil {
		domains := commerce.ParseEmailDomains(*req.EmailDomains)
		if err = commerce.ValidateEmailDomains(domains); err == nil {
			u.EmailDomains = &domains
		}
	}
	if err == nil && u.MaxUses != nil && (*u.MaxUses < 1 || *u.MaxUses > math.MaxInt32) {
		err = commerce.FieldError("max_uses", "Must be from 1 to %d.", math.MaxInt32)
	}
	if err == nil && u.BenefitValue != nil && !u.BenefitValue.IsPositive() {
		err = commerce.FieldError("benefit_value", "Must be positive.")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	cp, err := s.store.UpdateCoupon(c.Request.Context(), id, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toCouponResponse(c, cp))
}

func (s *Server) deleteCoupon(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if err := s.store.DeleteCoupon(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// couponCodes lists a coupon's codes as JSON, or as CSV with Accept: text/csv.
func (s *Server) couponCodes(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	cp, err := s.store.Coupon(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if strings.Contains(c.GetHeader("Accept"), "text/csv") {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", "attachment; filename=\"coupon-"+strconv.FormatInt(id, 10)+"-codes.csv\"")
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"code", "redeem_url", "voucher_type", "num_orders", "start_datetime", "end_datetime"})
		for _, v := range cp.Vouchers {
			_ = w.Write([]string{v.Code, s.redeemURL(v.Code), string(v.Usage), strconv.Itoa(v.NumOrders),
				v.Start.UTC().Format(time.RFC3339), v.End.UTC().Format(time.RFC3339)})
		}
		w.Flush()
		return
	}
	out := make([]voucherResponse, len(cp.Vouchers))
	for i, v := range cp.Vouchers {
		out[i] = s.toVoucherResponse(v)
	}
	c.JSON(http.StatusOK, gin.H{"count": len(out), "results": out})
}
