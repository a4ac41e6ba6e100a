package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// basketCreateRequest is the body of POST /api/v2/baskets/.
type basketCreateRequest struct {
	Products             []basketProduct `json:"products"`
	Checkout             *bool           `json:"checkout"`
	PaymentProcessorName *string         `json:"payment_processor_name"`
}

type basketProduct struct {
	SKU      *string `json:"sku"`
	Quantity *int    `json:"quantity"`
}

// basketCreateResponse is edX's answer to a basket creation.
type basketCreateResponse struct {
	ID          int64             `json:"id"`
	Order       *orderRef         `json:"order"`
	PaymentData *paymentDataField `json:"payment_data"`
}

type orderRef struct {
	Number string `json:"number"`
}

// paymentDataField is what a client needs to send the learner to the processor.
type paymentDataField struct {
	PaymentProcessorName string            `json:"payment_processor_name"`
	PaymentFormData      map[string]string `json:"payment_form_data"`
	PaymentPageURL       string            `json:"payment_page_url"`
}

// basketLineResponse is a basket line on the wire.
type basketLineResponse struct {
	ID              int64   `json:"id"`
	ProductID       int64   `json:"product_id"`
	SKU             string  `json:"sku"`
	Title           string  `json:"title"`
	ProductClass    string  `json:"product_class"`
	CourseID        *string `json:"course_id"`
	CertificateType string  `json:"certificate_type"`
	Quantity        int     `json:"quantity"`
	UnitPrice       string  `json:"unit_price_incl_tax"`
	LinePrice       string  `json:"line_price_incl_tax_excl_discounts"`
	Discount        string  `json:"discount"`
	LinePriceIncl   string  `json:"line_price_incl_tax"`
	Currency        string  `json:"price_currency"`
}

// appliedOfferResponse is an offer's effect on a basket.
type appliedOfferResponse struct {
	OfferID      int64   `json:"offer_id"`
	Name         string  `json:"name"`
	OfferType    string  `json:"offer_type"`
	VoucherCode  *string `json:"voucher_code"`
	BenefitType  string  `json:"benefit_type"`
	BenefitValue string  `json:"benefit_value"`
	Frequency    int     `json:"frequency"`
	Amount       string  `json:"amount"`
}

// basketVoucherResponse is the voucher applied to a basket.
type basketVoucherResponse struct {
	ID    int64  `json:"id"`
	Code  string `json:"code"`
	Name  string `json:"name"`
	Usage string `json:"usage"`
	// IsAvailable is false when the code can no longer be used (it is then not applied).
	IsAvailable bool `json:"is_available"`
}

// basketResponse is a basket on the wire.
type basketResponse struct {
	ID                        int64                  `json:"id"`
	Status                    string                 `json:"status"`
	Owner                     string                 `json:"owner"`
	OrderNumber               string                 `json:"order_number"`
	Currency                  string                 `json:"currency"`
	TotalInclTaxExclDiscounts string                 `json:"total_incl_tax_excl_discounts"`
	TotalDiscount             string                 `json:"total_discount"`
	TotalInclTax              string                 `json:"total_incl_tax"`
	Lines                     []basketLineResponse   `json:"lines"`
	Offers                    []appliedOfferResponse `json:"offers"`
	Voucher                   *basketVoucherResponse `json:"voucher"`
}

func toAppliedOffers(applied []commerce.AppliedOffer) []appliedOfferResponse {
	out := make([]appliedOfferResponse, len(applied))
	for i, a := range applied {
		out[i] = appliedOfferResponse{OfferID: a.OfferID, Name: a.Name, OfferType: string(a.Type), BenefitType: string(a.BenefitType),
			BenefitValue: commerce.FormatMoney(a.BenefitValue), Frequency: a.Frequency, Amount: commerce.FormatMoney(a.Amount)}
		if a.VoucherCode != "" {
			code := a.VoucherCode
			out[i].VoucherCode = &code
		}
	}
	return out
}

// priceBasket prices a basket with its voucher and the site offers, for its owner. A voucher
// that is no longer active or available to the owner is shown but not applied (checkout would
// refuse it). The basket's own reservations (a frozen basket) do not count against it.
func (s *Server) priceBasket(ctx context.Context, b commerce.Basket) (commerce.Pricing, *commerce.Voucher, bool, error) {
	voucher, err := s.store.BasketVoucher(ctx, b.ID)
	if err != nil {
		return commerce.Pricing{}, nil, false, err
	}
	owner, err := s.store.UserByUsername(ctx, b.OwnerUsername)
	if err != nil {
		return commerce.Pricing{}, nil, false, err
	}
	usable := voucher != nil
	if usable {
		uses, err := s.store.VoucherUses(ctx, voucher.ID, owner.ID, b.ID)
		if err != nil {
			return commerce.Pricing{}, nil, false, err
		}
		usable = voucher.UseProblem(uses, false, s.now()) == ""
	}
	req := commerce.PricingRequest{Lines: commerce.PriceLines(b.Lines), Buyer: &owner, BasketID: b.ID}
	if usable {
		req.Voucher = voucher
	}
	pricing, err := s.store.Price(ctx, req)
	return pricing, voucher, usable, err
}

func (s *Server) toBasketResponse(ctx context.Context, b commerce.Basket) (basketResponse, error) {
	pricing, voucher, usable, err := s.priceBasket(ctx, b)
	if err != nil {
		return basketResponse{}, fmt.Errorf("price basket %d: %w", b.ID, err)
	}
	totals := pricing.Totals
	out := basketResponse{
		ID: b.ID, Status: string(b.Status), Owner: b.OwnerUsername, OrderNumber: commerce.OrderNumber(s.partner, b.ID),
		Currency: totals.Currency, TotalInclTaxExclDiscounts: commerce.FormatMoney(totals.TotalInclTaxExclDiscounts),
		TotalDiscount: commerce.FormatMoney(totals.TotalDiscount), TotalInclTax: commerce.FormatMoney(totals.TotalInclTax),
		Lines: make([]basketLineResponse, len(b.Lines)), Offers: toAppliedOffers(pricing.Offers),
	}
	if voucher != nil {
		out.Voucher = &basketVoucherResponse{ID: voucher.ID, Code: voucher.Code, Name: voucher.Name, Usage: string(voucher.Usage), IsAvailable: usable}
	}
	for i, l := range b.Lines {
		line := basketLineResponse{
			ID: l.ID, ProductID: l.Product.ID, SKU: l.Product.StockRecord.PartnerSKU, Title: l.Product.Title,
			ProductClass: string(l.Product.Class), CertificateType: l.Product.CertificateType, Quantity: l.Quantity,
			UnitPrice: commerce.FormatMoney(l.UnitPrice), Currency: l.Currency,
			LinePrice: commerce.FormatMoney(l.LinePrice()), Discount: commerce.FormatMoney(pricing.Lines[i].Discount),
			LinePriceIncl: commerce.FormatMoney(pricing.Lines[i].LinePrice),
		}
		if l.Product.CourseID != "" {
			id := l.Product.CourseID
			line.CourseID = &id
		}
		out.Lines[i] = line
	}
	return out, nil
}

// edX's messages for a basket that cannot be built.
var (
	errNoProducts = commerce.UserError(commerce.EInvalid,
		"No product objects could be found in the request body",
		"You can't check out with an empty basket.")
	errMissingSKU = commerce.UserError(commerce.EInvalid,
		"SKU missing from a requested product object",
		"We couldn't locate the identification code necessary to find one of your products.")
)

func errUnknownSKU(sku string) error {
	return commerce.UserError(commerce.EInvalid,
		fmt.Sprintf("Catalog does not contain a product with SKU [%s]", sku),
		"We couldn't find one of the products you're looking for.")
}

func errUnavailable(sku string) error {
	return commerce.UserError(commerce.EInvalid,
		fmt.Sprintf("Product with SKU [%s] is [Unavailable]", sku),
		"One of the products you're trying to order is unavailable.")
}

// requestedQuantities reads the products of a basket request: the SKUs in order (each once)
// and the quantity asked for each (the last one named wins).
func requestedQuantities(products []basketProduct) ([]string, map[string]int, error) {
	if len(products) == 0 {
		return nil, nil, errNoProducts
	}
	skus := make([]string, 0, len(products))
	quantities := map[string]int{}
	for i, p := range products {
		if p.SKU == nil || strings.TrimSpace(*p.SKU) == "" {
			return nil, nil, errMissingSKU
		}
		sku := strings.TrimSpace(*p.SKU)
		if err := commerce.CheckText(fmt.Sprintf("products[%d].sku", i), sku, commerce.MaxSKULength); err != nil {
			return nil, nil, err
		}
		q := 1
		if p.Quantity != nil {
			q = *p.Quantity
			if q < 1 || q > commerce.MaxLineQuantity {
				return nil, nil, commerce.FieldError(fmt.Sprintf("products[%d].quantity", i), "Must be from 1 to %d.", commerce.MaxLineQuantity)
			}
		}
		if _, seen := quantities[sku]; !seen {
			skus = append(skus, sku)
		}
		quantities[sku] = q
	}
	return skus, quantities, nil
}

// createBasket empties the caller's open basket and fills it with the requested products,
// skipping seats the caller already bought.
func (s *Server) createBasket(c *gin.Context) {
	user, _ := currentUser(c)
	var req basketCreateRequest
	if err := decodeJSON(c, &req, false); err != nil {
		s.fail(c, err)
		return
	}
	skus, quantities, err := requestedQuantities(req.Products)
	if err != nil {
		s.fail(c, err)
		return
	}
	var proc PaymentProcessor
	checkout := req.Checkout != nil && *req.Checkout
	if checkout {
		name := ""
		if req.PaymentProcessorName != nil {
			name = *req.PaymentProcessorName
		}
		var err error
		if proc, err = s.processor(name, "Lookup for a payment processor with name [%s] failed"); err != nil {
			s.fail(c, err)
			return
		}
	}
	ctx := c.Request.Context()
	found, err := s.store.ProductsBySKU(ctx, skus)
	if err != nil {
		s.fail(c, err)
		return
	}
	now := s.now()
	products := make([]commerce.Product, 0, len(skus))
	ids := make([]int64, 0, len(skus))
	for _, sku := range skus {
		p, ok := found[sku]
		if !ok {
			s.fail(c, errUnknownSKU(sku))
			return
		}
		if !p.AvailableAt(now) && !user.IsStaff {
			s.fail(c, errUnavailable(sku))
			return
		}
		if quantities[sku] > 1 && p.Class != commerce.ClassEnrollmentCode {
			s.fail(c, commerce.UserError(commerce.EInvalid,
				fmt.Sprintf("Product with SKU [%s] is a %s; only enrollment codes can be bought in quantity.", sku, p.Class),
				"You can buy one of this product at a time."))
			return
		}
		products = append(products, p)
		ids = append(ids, p.ID)
	}
	if _, err := commerce.Price(productPriceLines(products)); err != nil {
		s.fail(c, err)
		return
	}
	purchased, err := s.store.PurchasedProducts(ctx, user.ID, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	var toAdd []commerce.BasketItem
	for _, p := range products {
		if !(purchased[p.ID] && p.Class == commerce.ClassSeat) {
			toAdd = append(toAdd, commerce.BasketItem{Product: p, Quantity: quantities[p.StockRecord.PartnerSKU]})
		}
	}
	if len(toAdd) == 0 {
		s.fail(c, commerce.UserError(commerce.EInvalid,
			fmt.Sprintf("The user has already purchased the products with SKU(s) [%s]", strings.Join(skus, ", ")),
			"You have already purchased these products."))
		return
	}
	basket, err := s.store.ReplaceOpenBasket(ctx, user.ID, toAdd)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := basketCreateResponse{ID: basket.ID}
	if checkout {
		co, data, err := s.startCheckout(ctx, user, basket.ID, proc)
		if err != nil {
			s.fail(c, err)
			return
		}
		if co.IsFree() {
			out.Order = &orderRef{Number: co.OrderNumber}
		} else {
			out.PaymentData = &paymentDataField{PaymentProcessorName: data.Processor, PaymentFormData: data.FormData, PaymentPageURL: data.PaymentPageURL}
		}
	}
	c.JSON(http.StatusOK, out)
}

func productPriceLines(products []commerce.Product) []commerce.PriceLine {
	out := make([]commerce.PriceLine, len(products))
	for i, p := range products {
		out[i] = commerce.PriceLine{SKU: p.StockRecord.PartnerSKU, ProductID: p.ID, Class: p.Class, CertificateType: p.CertificateType,
			UnitPrice: p.StockRecord.Price, Quantity: 1, Currency: p.StockRecord.Currency}
	}
	return out
}

// getBasket shows a basket to its owner or to staff; to anyone else it does not exist.
func (s *Server) getBasket(c *gin.Context) {
	user, _ := currentUser(c)
	id, ok := pathID(c)
	if !ok {
		return
	}
	b, err := s.store.Basket(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if b.OwnerID != user.ID && !user.IsStaff {
		detail(c, http.StatusNotFound, "Not found.")
		return
	}
	out, err := s.toBasketResponse(c.Request.Context(), b)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// calculateResponse is the answer of GET /api/v2/baskets/calculate/.
type calculateResponse struct {
	TotalInclTaxExclDiscounts string `json:"total_incl_tax_excl_discounts"`
	TotalInclTax              string `json:"total_incl_tax"`
	Currency                  string `json:"currency"`
}

// calculate prices a would-be basket of the given SKUs without writing anything.
func (s *Server) calculate(c *gin.Context) {
	user, _ := currentUser(c)
	ctx := c.Request.Context()
	skus := uniqueNonEmpty(c.QueryArray("sku"))
	if len(skus) == 0 {
		detail(c, http.StatusBadRequest, "No SKUs provided.")
		return
	}
	username, hasUsername := c.GetQuery("username")
	isAnonymous := strings.EqualFold(c.Query("is_anonymous"), "true")
	if hasUsername && isAnonymous {
		detail(c, http.StatusBadRequest, "Provide username or is_anonymous query param, but not both")
		return
	}
	buyer := &user
	switch {
	case isAnonymous:
		buyer = nil
	case hasUsername && username != user.Username:
		if !user.IsStaff {
			detail(c, http.StatusForbidden, "Unauthorized user credentials")
			return
		}
		// Staff price for another learner; an unknown learner is priced anonymously.
		other, err := s.store.UserByUsername(ctx, username)
		switch {
		case commerce.ErrorCodeOf(err) == commerce.ENotFound:
			buyer = nil
		case err != nil:
			s.fail(c, err)
			return
		default:
			buyer = &other
		}
	}
	found, err := s.store.CachedProductsBySKU(ctx, skus)
	if err != nil {
		s.fail(c, err)
		return
	}
	var missing []string
	products := make([]commerce.Product, 0, len(skus))
	for _, sku := range skus {
		if p, ok := found[sku]; ok {
			products = append(products, p)
		} else {
			missing = append(missing, sku)
		}
	}
	if len(missing) > 0 {
		detail(c, http.StatusBadRequest, fmt.Sprintf("Products with SKU(s) [%s] do not exist.", strings.Join(missing, ", ")))
		return
	}
	lines := productPriceLines(products)
	voucher := s.calculationVoucher(ctx, c.Query("code"), lines, buyer)
	pricing, err := s.store.Price(ctx, commerce.PricingRequest{Lines: lines, Voucher: voucher, Buyer: buyer})
	if err != nil {
		s.fail(c, err)
		return
	}
	totals := pricing.Totals
	c.JSON(http.StatusOK, calculateResponse{
		TotalInclTaxExclDiscounts: commerce.FormatMoney(totals.TotalInclTaxExclDiscounts),
		TotalInclTax:              commerce.FormatMoney(totals.TotalInclTax),
		Currency:                  totals.Currency,
	})
}

func uniqueNonEmpty(values []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
