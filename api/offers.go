package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"
)

// OfferStore is what the handlers of offers.go need from the store: site offers; *db.Store implements it.
type OfferStore interface {
	CreateOffer(ctx context.Context, o commerce.Offer) (commerce.Offer, error)
	UpdateOffer(ctx context.Context, o commerce.Offer) (commerce.Offer, error)
	Offer(ctx context.Context, id int64) (commerce.Offer, error)
	SiteOffers(ctx context.Context, page commerce.Page) ([]commerce.Offer, int64, error)
}

// offerRequest is the body of POST /api/v2/offers/ and PUT /api/v2/offers/{id}/ (site offers).
type offerRequest struct {
	Name                  *string         `json:"name"`
	BenefitType           *string         `json:"benefit_type"`
	BenefitValue          json.RawMessage `json:"benefit_value"`
	MaxAffectedItems      *int            `json:"max_affected_items"`
	ConditionType         *string         `json:"condition_type"`
	ConditionValue        json.RawMessage `json:"condition_value"`
	Range                 *offerRange     `json:"range"`
	Priority              *int            `json:"priority"`
	Exclusive             *bool           `json:"exclusive"`
	Status                *string         `json:"status"`
	StartDatetime         *string         `json:"start_datetime"`
	EndDatetime           *string         `json:"end_datetime"`
	MaxGlobalApplications *int            `json:"max_global_applications"`
	MaxUserApplications   *int            `json:"max_user_applications"`
	MaxBasketApplications *int            `json:"max_basket_applications"`
	MaxDiscount           json.RawMessage `json:"max_discount"`
	EmailDomains          *string         `json:"email_domains"`
}

type offerRange struct {
	IncludesAllProducts bool            `json:"includes_all_products"`
	ProductIDs          []int64         `json:"product_ids"`
	CourseSeatTypes     json.RawMessage `json:"course_seat_types"`
}

// maxOfferNameLength bounds an offer's name (Oscar's ConditionalOffer.name is 128 characters).
const maxOfferNameLength = 128

func toSiteOffer(r offerRequest) (commerce.Offer, error) {
	o := commerce.Offer{Type: commerce.OfferSite, Exclusive: true, Status: commerce.OfferOpen,
		Condition: commerce.Condition{Type: commerce.ConditionCount, Value: decimal.NewFromInt(1)}}
	if r.Name == nil || strings.TrimSpace(*r.Name) == "" {
		return o, commerce.FieldError("name", "This field is required.")
	}
	o.Name = strings.TrimSpace(*r.Name)
	if err := commerce.CheckText("name", o.Name, maxOfferNameLength); err != nil {
		return o, err
	}
	if r.BenefitType == nil {
		return o, commerce.FieldError("benefit_type", "This field is required.")
	}
	o.Benefit.Type = commerce.BenefitType(*r.BenefitType)
	value, err := parseMoneyField(r.BenefitValue, "benefit_value")
	if err != nil {
		return o, err
	}
	if value == nil {
		return o, commerce.FieldError("benefit_value", "This field is required.")
	}
	o.Benefit.Value = *value
	if r.MaxAffectedItems != nil {
		if *r.MaxAffectedItems < 1 {
			return o, commerce.FieldError("max_affected_items", "Must be at least 1.")
		}
		o.Benefit.MaxAffectedItems = *r.MaxAffectedItems
	}
	if r.ConditionType != nil {
		o.Condition.Type = commerce.ConditionType(*r.ConditionType)
	}
	if cv, err := parseMoneyField(r.ConditionValue, "condition_value"); err != nil {
		return o, err
	} else if cv != nil {
		o.Condition.Value = *cv
	}
	if r.Range == nil {
		return o, commerce.FieldError("range", "This field is required.")
	}
	o.Range.IncludesAllProducts, o.Range.ProductIDs = r.Range.IncludesAllProducts, r.Range.ProductIDs
	if o.Range.SeatTypes, err = seatTypes(r.Range.CourseSeatTypes); err != nil {
		return o, err
	}
	if r.Priority != nil {
		o.Priority = *r.Priority
	}
	if r.Exclusive != nil {
		o.Exclusive = *r.Exclusive
	}
	if r.Status != nil {
		o.Status = commerce.OfferStatus(*r.Status)
		if o.Status != commerce.OfferOpen && o.Status != commerce.OfferSuspended && o.Status != commerce.OfferConsumed {
			return o, commerce.FieldError("status", "Must be Open, Suspended or Consumed.")
		}
	}
	if o.Start, err = parseTimeField(r.StartDatetime, "start_datetime"); err != nil {
		return o, err
	}
	if o.End, err = parseTimeField(r.EndDatetime, "end_datetime"); err != nil {
		return o, err
	}
	o.MaxGlobalApplications, o.MaxUserApplications, o.MaxBasketApplications = r.MaxGlobalApplications, r.MaxUserApplications, r.MaxBasketApplications
	if o.MaxDiscount, err = parseMoneyField(r.MaxDiscount, "max_discount"); err != nil {
		return o, err
	}
	if r.EmailDomains != nil {
		o.EmailDomains = commerce.ParseEmailDomains(*r.EmailDomains)
	}
	return o, o.Validate()
}

// offerResponse is an offer on the wire.
type offerResponse struct {
	ID                    int64      `json:"id"`
	Name                  string     `json:"name"`
	OfferType             string     `json:"offer_type"`
	Status                string     `json:"status"`
	Priority              int        `json:"priority"`
	Exclusive             bool       `json:"exclusive"`
	BenefitType           string     `json:"benefit_type"`
	BenefitValue          string     `json:"benefit_value"`
	MaxAffectedItems      *int       `json:"max_affected_items"`
	ConditionType         string     `json:"condition_type"`
	ConditionValue        string     `json:"condition_value"`
	Range                 rangeOut   `json:"range"`
	StartDatetime         *time.Time `json:"start_datetime"`
	EndDatetime           *time.Time `json:"end_datetime"`
	MaxGlobalApplications *int       `json:"max_global_applications"`
	MaxUserApplications   *int       `json:"max_user_applications"`
	MaxBasketApplications *int       `json:"max_basket_applications"`
	MaxDiscount           *string    `json:"max_discount"`
	EmailDomains          string     `json:"email_domains"`
	NumApplications       int        `json:"num_applications"`
	NumOrders             int        `json:"num_orders"`
	TotalDiscount         string     `json:"total_discount"`
	DateCreated           time.Time  `json:"date_created"`
}

type rangeOut struct {
	IncludesAllProducts bool     `json:"includes_all_products"`
	ProductIDs          []int64  `json:"product_ids"`
	CourseSeatTypes     []string `json:"course_seat_types"`
}

func toOfferResponse(o commerce.Offer) offerResponse {
	out := offerResponse{
		ID: o.ID, Name: o.Name, OfferType: string(o.Type), Status: string(o.Status), Priority: o.Priority, Exclusive: o.Exclusive,
		BenefitType: string(o.Benefit.Type), BenefitValue: commerce.FormatMoney(o.Benefit.Value),
		ConditionType: string(o.Condition.Type), ConditionValue: commerce.FormatMoney(o.Condition.Value),
		Range:         rangeOut{IncludesAllProducts: o.Range.IncludesAllProducts, ProductIDs: o.Range.ProductIDs, CourseSeatTypes: o.Range.SeatTypes},
		StartDatetime: o.Start, EndDatetime: o.End, MaxGlobalApplications: o.MaxGlobalApplications,
		MaxUserApplications: o.MaxUserApplications, MaxBasketApplications: o.MaxBasketApplications,
		EmailDomains: strings.Join(o.EmailDomains, ","), NumApplications: o.NumApplications, NumOrders: o.NumOrders,
		TotalDiscount: commerce.FormatMoney(o.TotalDiscount), DateCreated: o.CreatedAt,
	}
	if o.Benefit.MaxAffectedItems > 0 {
		n := o.Benefit.MaxAffectedItems
		out.MaxAffectedItems = &n
	}
	if o.MaxDiscount != nil {
		m := commerce.FormatMoney(*o.MaxDiscount)
		out.MaxDiscount = &m
	}
	if out.Range.ProductIDs == nil {
		out.Range.ProductIDs = []int64{}
	}
	if out.Range.CourseSeatTypes == nil {
		out.Range.CourseSeatTypes = []string{}
	}
	return out
}

func (s *Server) createOffer(c *gin.Context) {
	var req offerRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	o, err := toSiteOffer(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	created, err := s.store.CreateOffer(c.Request.Context(), o)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, toOfferResponse(created))
}

func (s *Server) listOffers(c *gin.Context) {
	respondPage(s, c, func(p commerce.Page) ([]commerce.Offer, int64, error) {
		return s.store.SiteOffers(c.Request.Context(), p)
	}, toOfferResponse)
}

// siteOffer loads the site offer named in the path; voucher offers are managed as coupons.
func (s *Server) siteOffer(c *gin.Context) (commerce.Offer, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return commerce.Offer{}, false
	}
	o, err := s.store.Offer(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return o, false
	}
	if o.Type != commerce.OfferSite {
		s.fail(c, commerce.ErrNotFound)
		return o, false
	}
	return o, true
}

func (s *Server) getOffer(c *gin.Context) {
	if o, ok := s.siteOffer(c); ok {
		c.JSON(http.StatusOK, toOfferResponse(o))
	}
}

func (s *Server) updateOffer(c *gin.Context) {
	current, ok := s.siteOffer(c)
	if !ok {
		return
	}
	var req offerRequest
	if err := decodeJSON(c, &req, true); err != nil {
		s.fail(c, err)
		return
	}
	o, err := toSiteOffer(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	o.ID = current.ID
	updated, err := s.store.UpdateOffer(c.Request.Context(), o)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toOfferResponse(updated))
}
