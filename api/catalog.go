package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// CatalogStore is what the handlers of catalog.go need from the store: courses, products and stock records; *db.Store implements it.
type CatalogStore interface {
	PublishCourse(ctx context.Context, partner string, pub commerce.Publication, create bool) (commerce.Course, error)
	Course(ctx context.Context, id string, withProducts bool) (commerce.Course, error)
	Courses(ctx context.Context, page commerce.Page, withProducts bool) ([]commerce.Course, int64, error)
	Products(ctx context.Context, f commerce.ProductFilter, page commerce.Page) ([]commerce.Product, int64, error)
	Product(ctx context.Context, id int64) (commerce.Product, error)
	ProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error)
	StockRecordBySKU(ctx context.Context, sku string) (commerce.Product, error)
	UpdatePrice(ctx context.Context, sku string, price commerce.StockRecord) (commerce.StockRecord, error)
	CachedProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error)
}

// attributeValue is one {name, value} attribute of a product, as edX's API spells it.
type attributeValue struct {
	Name  string `json:"name"`
	Code  string `json:"code,omitempty"`
	Value any    `json:"value"`
}

// stockRecordResponse is a stock record on the wire.
type stockRecordResponse struct {
	ID            int64  `json:"id"`
	Product       int64  `json:"product"`
	Partner       string `json:"partner"`
	PartnerSKU    string `json:"partner_sku"`
	PriceCurrency string `json:"price_currency"`
	Price         string `json:"price"`
}

// productResponse is a product on the wire (edX's ProductSerializer).
type productResponse struct {
	ID               int64                 `json:"id"`
	URL              string                `json:"url"`
	Structure        string                `json:"structure"`
	ProductClass     string                `json:"product_class"`
	Title            string                `json:"title"`
	CourseID         *string               `json:"course_id"`
	Price            string                `json:"price"`
	Expires          *time.Time            `json:"expires"`
	AttributeValues  []attributeValue      `json:"attribute_values"`
	IsAvailableToBuy bool                  `json:"is_available_to_buy"`
	PartnerSKU       string                `json:"partner_sku"`
	StockRecords     []stockRecordResponse `json:"stockrecords"`
}

// courseResponse is a course on the wire (edX's CourseSerializer).
type courseResponse struct {
	ID                   string            `json:"id"`
	URL                  string            `json:"url"`
	Name                 string            `json:"name"`
	VerificationDeadline *time.Time        `json:"verification_deadline"`
	Type                 string            `json:"type"`
	ProductsURL          string            `json:"products_url"`
	LastEdited           time.Time         `json:"last_edited"`
	Products             []productResponse `json:"products,omitempty"`
}

func (s *Server) toStockRecordResponse(r commerce.StockRecord) stockRecordResponse {
	return stockRecordResponse{
		ID: r.ID, Product: r.ProductID, Partner: s.partner, PartnerSKU: r.PartnerSKU,
		PriceCurrency: r.Currency, Price: commerce.FormatMoney(r.Price),
	}
}

func (s *Server) toProductResponse(c *gin.Context, p commerce.Product) productResponse {
	out := productResponse{
		ID: p.ID, URL: absoluteURL(c, "/api/v2/products/%d/", p.ID), Structure: "standalone",
		ProductClass: string(p.Class), Title: p.Title, Price: commerce.FormatMoney(p.StockRecord.Price),
		Expires: p.Expires, AttributeValues: productAttributes(p), IsAvailableToBuy: p.AvailableAt(s.now()),
		PartnerSKU: p.StockRecord.PartnerSKU, StockRecords: []stockRecordResponse{s.toStockRecordResponse(p.StockRecord)},
	}
	if p.CourseID != "" {
		id := p.CourseID
		out.CourseID = &id
	}
	return out
}

func productAttributes(p commerce.Product) []attributeValue {
	attrs := []attributeValue{}
	add := func(name string, v any) { attrs = append(attrs, attributeValue{Name: name, Code: name, Value: v}) }
	if p.CertificateType != "" {
		add("certificate_type", p.CertificateType)
	}
	if p.CourseID != "" {
		add("course_key", p.CourseID)
	}
	if p.CreditProvider != "" {
		add("credit_provider", p.CreditProvider)
	}
	if p.CreditHours != nil {
		add("credit_hours", *p.CreditHours)
	}
	add("id_verification_required", p.IDVerificationRequired)
	if p.SeatType != "" {
		add("seat_type", p.SeatType)
	}
	return attrs
}

func (s *Server) toCourseResponse(c *gin.Context, course commerce.Course, withProducts bool) courseResponse {
	id := escapeCourseID(course.ID)
	out := courseResponse{
		ID: course.ID, URL: absoluteURL(c, "/api/v2/courses/%s/", id), Name: course.Name,
		VerificationDeadline: course.VerificationDeadline, Type: course.Type(),
		ProductsURL: absoluteURL(c, "/api/v2/products/?course_id=%s", id), LastEdited: course.UpdatedAt,
	}
	if withProducts {
		out.Products = make([]productResponse, len(course.Products))
		for i, p := range course.Products {
			out.Products[i] = s.toProductResponse(c, p)
		}
	}
	return out
}

func escapeCourseID(id string) string {
	return strings.ReplaceAll(strings.ReplaceAll(id, "+", "%2B"), "/", "%2F")
}

// publicationRequest is the body of POST/PUT /api/v2/publication/.
type publicationRequest struct {
	ID                   *string              `json:"id"`
	CreateEnrollmentCode *bool                `json:"create_or_activate_enrollment_code"`
	UUID                 *string              `json:"uuid"`
	Name                 *string              `json:"name"`
	VerificationDeadline *string              `json:"verification_deadline"`
	Products             []publicationProduct `json:"products"`
}

type publicationProduct struct {
	ProductClass    string               `json:"product_class"`
	Price           json.RawMessage      `json:"price"`
	PriceCurrency   *string              `json:"price_currency"`
	Expires         *string              `json:"expires"`
	AttributeValues []publicationAttrVal `json:"attribute_values"`
}

type publicationAttrVal struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// toPublication parses and validates the request, naming the first offending field.
func toPublication(req publicationRequest, pathID string) (commerce.Publication, error) {
	var pub commerce.Publication
	switch {
	case req.ID != nil && pathID != "" && *req.ID != pathID:
		return pub, commerce.FieldError("id", "The id in the body (%s) differs from the course in the path (%s).", *req.ID, pathID)
	case req.ID != nil:
		pub.CourseID = strings.TrimSpace(*req.ID)
	case pathID != "":
		pub.CourseID = pathID
	default:
		return pub, commerce.FieldError("id", "This field is required.")
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return pub, commerce.FieldError("name", "This field is required.")
	}
	pub.Name = strings.TrimSpace(*req.Name)
	if req.VerificationDeadline != nil && *req.VerificationDeadline != "" {
		t, err := time.Parse(time.RFC3339, *req.VerificationDeadline)
		if err != nil {
			return pub, commerce.FieldError("verification_deadline", "%q is not an RFC 3339 date-time.", *req.VerificationDeadline)
		}
		pub.VerificationDeadline = &t
	}
	if req.Products == nil {
		return pub, commerce.FieldError("products", "This field is required.")
	}
	pub.CreateEnrollmentCode = req.CreateEnrollmentCode != nil && *req.CreateEnrollmentCode
	for i, p := range req.Products {
		seat, err := toSeatSpec(p, fmt.Sprintf("products[%d]", i))
		if err != nil {
			return pub, err
		}
		pub.Seats = append(pub.Seats, seat)
	}
	return pub, pub.Validate()
}

func toSeatSpec(p publicationProduct, field string) (commerce.SeatSpec, error) {
	spec := commerce.SeatSpec{Currency: commerce.DefaultCurrency}
	if p.ProductClass != string(commerce.ClassSeat) {
		return spec, commerce.FieldError(field+".product_class", "Only \"Seat\" products can be published, not %q.", p.ProductClass)
	}
	text, ok, err := rawText(p.Price)
	if err != nil {
		return spec, commerce.FieldError(field+".price", "A price is a string or a number such as \"49.00\".")
	}
	if !ok {
		return spec, commerce.FieldError(field+".price", "Products must have a price.")
	}
	if spec.Price, err = commerce.ParsePrice(text); err != nil {
		return spec, commerce.FieldError(field+".price", "%s.", err.Error())
	}
	if p.PriceCurrency != nil {
		spec.Currency = strings.ToUpper(strings.TrimSpace(*p.PriceCurrency))
	}
	if p.Expires != nil && *p.Expires != "" {
		t, err := time.Parse(time.RFC3339, *p.Expires)
		if err != nil {
			return spec, commerce.FieldError(field+".expires", "%q is not an RFC 3339 date-time.", *p.Expires)
		}
		spec.Expires = &t
	}
	seenIDV := false
	for _, a := range p.AttributeValues {
		af := field + ".attribute_values." + a.Name
		switch a.Name {
		case "certificate_type":
			var v string
			if err := json.Unmarshal(a.Value, &v); err != nil {
				return spec, commerce.FieldError(af, "Expected a string.")
			}
			ct, ok := commerce.NormalizeCertificateType(v)
			if !ok {
				return spec, commerce.FieldError(af, "%q is not a certificate type.", v)
			}
			spec.CertificateType = ct
		case "id_verification_required":
			v, err := parseBool(a.Value)
			if err != nil {
				return spec, commerce.FieldError(af, "Expected a boolean.")
			}
			spec.IDVerificationRequired, seenIDV = v, true
		case "credit_provider":
			var v string
			if err := json.Unmarshal(a.Value, &v); err != nil {
				return spec, commerce.FieldError(af, "Expected a string.")
			}
			spec.CreditProvider = strings.TrimSpace(v)
		case "credit_hours":
			text, ok, err := rawText(a.Value)
			n, convErr := strconv.Atoi(text)
			if err != nil || convErr != nil || n < 0 {
				return spec, commerce.FieldError(af, "Expected a non-negative integer.")
			}
			if ok {
				spec.CreditHours = &n
			}
		default:
			return spec, commerce.FieldError(field+".attribute_values", "Unknown attribute %q.", a.Name)
		}
	}
	if !seenIDV {
		return spec, commerce.FieldError(field+".attribute_values.id_verification_required", "Seats must say whether ID verification is required.")
	}
	return spec, nil
}

func parseBool(raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return false, err
	}
	return strconv.ParseBool(s)
}

// publicationResponse answers a publication with the course and its products.
type publicationResponse struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	VerificationDeadline *time.Time        `json:"verification_deadline"`
	Products             []productResponse `json:"products"`
}

func (s *Server) createPublication(c *gin.Context) { s.publish(c, "", true) }

func (s *Server) updatePublication(c *gin.Context) {
	id := strings.Trim(c.Param("course_id"), "/")
	if id == "" {
		detail(c, http.StatusMethodNotAllowed, "Method \"PUT\" not allowed.")
		return
	}
	s.publish(c, id, false)
}

func (s *Server) publish(c *gin.Context, pathID string, create bool) {
	var req publicationRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	pub, err := toPublication(req, pathID)
	if err != nil {
		s.fail(c, err)
		return
	}
	course, err := s.store.PublishCourse(c.Request.Context(), s.partner, pub, create)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := publicationResponse{ID: course.ID, Name: course.Name, VerificationDeadline: course.VerificationDeadline, Products: []productResponse{}}
	for _, p := range course.Products {
		out.Products = append(out.Products, s.toProductResponse(c, p))
	}
	status := http.StatusOK
	if create {
		status = http.StatusCreated
	}
	c.JSON(status, out)
}

// getCourses serves both GET /api/v2/courses/ and GET /api/v2/courses/{id}/ (course ids may
// hold slashes, so the path is matched as a whole).
func (s *Server) getCourses(c *gin.Context) {
	withProducts := c.Query("include_products") == "true"
	id := strings.Trim(c.Param("course_path"), "/")
	if id != "" {
		course, err := s.store.Course(c.Request.Context(), id, withProducts)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s.toCourseResponse(c, course, withProducts))
		return
	}
	respondPage(s, c, func(p commerce.Page) ([]commerce.Course, int64, error) {
		return s.store.Courses(c.Request.Context(), p, withProducts)
	}, func(course commerce.Course) courseResponse { return s.toCourseResponse(c, course, withProducts) })
}

func (s *Server) listProducts(c *gin.Context) {
	f := commerce.ProductFilter{CourseID: c.Query("course_id"), Class: commerce.ProductClass(c.Query("product_class"))}
	respondPage(s, c, func(p commerce.Page) ([]commerce.Product, int64, error) {
		return s.store.Products(c.Request.Context(), f, p)
	}, func(prod commerce.Product) productResponse { return s.toProductResponse(c, prod) })
}

func (s *Server) getProduct(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	p, err := s.store.Product(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toProductResponse(c, p))
}

func (s *Server) getStockRecord(c *gin.Context) {
	p, err := s.store.StockRecordBySKU(c.Request.Context(), c.Param("sku"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toStockRecordResponse(p.StockRecord))
}

// updateStockRecord changes a stock record's price and currency; any other key is refused.
func (s *Server) updateStockRecord(c *gin.Context) {
	var raw map[string]json.RawMessage
	if err := decodeJSON(c, &raw, false); err != nil {
		s.fail(c, err)
		return
	}
	for k := range raw {
		if k != "price" && k != "price_currency" {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"message": "Only the price_currency and price fields are allowed to be modified.", "field": k})
			return
		}
	}
	current, err := s.store.StockRecordBySKU(c.Request.Context(), c.Param("sku"))
	if err != nil {
		s.fail(c, err)
		return
	}
	update := current.StockRecord
	if v, ok := raw["price"]; ok {
		text, present, err := rawText(v)
		if err != nil || !present {
			s.fail(c, commerce.FieldError("price", "A price is a string or a number such as \"49.00\"."))
			return
		}
		if update.Price, err = commerce.ParsePrice(text); err != nil {
			s.fail(c, commerce.FieldError("price", "%s.", err.Error()))
			return
		}
	}
	if v, ok := raw["price_currency"]; ok {
		var cur string
		if err := json.Unmarshal(v, &cur); err != nil || !commerce.ISOCurrency(strings.ToUpper(cur)) {
			s.fail(c, commerce.FieldError("price_currency", "Expected an ISO 4217 currency code such as \"USD\"."))
			return
		}
		update.Currency = strings.ToUpper(cur)
	}
	updated, err := s.store.UpdatePrice(c.Request.Context(), c.Param("sku"), update)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toStockRecordResponse(updated))
}
