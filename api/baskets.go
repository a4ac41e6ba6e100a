package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// BasketStore is what the handlers of baskets.go need from the store: baskets and their pricing; *db.Store implements it.
type BasketStore interface {
	ReplaceOpenBasket(ctx context.Context, ownerID int64, items []commerce.BasketItem) (commerce.Basket, error)
	Basket(ctx context.Context, id int64) (commerce.Basket, error)
	OpenBasket(ctx context.Context, ownerID int64) (commerce.Basket, error)
	PurchasedProducts(ctx context.Context, userID int64, productIDs []int64) (map[int64]bool, error)
	Price(ctx context.Context, req commerce.PricingRequest) (commerce.Pricing, error)
	FillOfferUsage(ctx context.Context, offers []commerce.Offer, userID int64) error
}

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

// basketRequest reads the products of a basket request: the SKUs in order (each once) and the
// quantity asked for each (the last one named wins).
func basketRequest(products []basketProduct) (commerce.BasketRequest, error) {
	req := commerce.BasketRequest{Quantities: map[string]int{}}
	if len(products) == 0 {
		return req, errNoProducts
	}
	for i, p := range products {
		if p.SKU == nil || strings.TrimSpace(*p.SKU) == "" {
			return req, errMissingSKU
		}
		sku := strings.TrimSpace(*p.SKU)
		if err := commerce.CheckText(fmt.Sprintf("products[%d].sku", i), sku, commerce.MaxSKULength); err != nil {
			return req, err
		}
		q := 1
		if p.Quantity != nil {
			q = *p.Quantity
			if q < 1 || q > commerce.MaxLineQuantity {
				return req, commerce.FieldError(fmt.Sprintf("products[%d].quantity", i), "Must be from 1 to %d.", commerce.MaxLineQuantity)
			}
		}
		if _, seen := req.Quantities[sku]; !seen {
			req.SKUs = append(req.SKUs, sku)
		}
		req.Quantities[sku] = q
	}
	return req, nil
}

// parseBasketCreate reads POST /api/v2/baskets/: the products asked for and, when the basket
// is to be checked out at once, its processor (nil otherwise).
func (s *Server) parseBasketCreate(c *gin.Context) (commerce.BasketRequest, PaymentProcessor, error) {
	var body basketCreateRequest
	if err := decodeJSON(c, &body, false); err != nil {
		return commerce.BasketRequest{}, nil, err
	}
	req, err := basketRequest(body.Products)
	if err != nil || body.Checkout == nil || !*body.Checkout {
		return req, nil, err
	}
	name := ""
	if body.PaymentProcessorName != nil {
		name = *body.PaymentProcessorName
	}
	proc, err := s.processor(name, "Lookup for a payment processor with name [%s] failed")
	return req, proc, err
}

// basketItems applies the basket rules to a request for user and returns what goes in the
// basket; it writes nothing.
func (s *Server) basketItems(ctx context.Context, user commerce.User, req commerce.BasketRequest) ([]commerce.BasketItem, error) {
	found, err := s.store.ProductsBySKU(ctx, req.SKUs)
	if err != nil {
		return nil, err
	}
	products, err := req.Products(found, s.now(), user.IsStaff)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(products))
	for i, p := range products {
		ids[i] = p.ID
	}
	purchased, err := s.store.PurchasedProducts(ctx, user.ID, ids)
	if err != nil {
		return nil, err
	}
	return req.Items(products, purchased)
}

// createBasket empties the caller's open basket and fills it with the requested products,
// skipping seats the caller already bought; with checkout set it also starts the checkout.
func (s *Server) createBasket(c *gin.Context) {
	user, _ := currentUser(c)
	ctx := c.Request.Context()
	req, proc, err := s.parseBasketCreate(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.basketItems(ctx, user, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	basket, err := s.store.ReplaceOpenBasket(ctx, user.ID, items)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.checkoutCreated(ctx, user, basket.ID, proc)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// checkoutCreated answers a basket creation, starting its checkout with proc unless proc is nil.
func (s *Server) checkoutCreated(ctx context.Context, user commerce.User, basketID int64, proc PaymentProcessor) (basketCreateResponse, error) {
	out := basketCreateResponse{ID: basketID}
	if proc == nil {
		return out, nil
	}
	co, data, err := s.startCheckout(ctx, user, basketID, proc)
	if err != nil {
		return out, err
	}
	if co.IsFree() {
		out.Order = &orderRef{Number: co.OrderNumber}
	} else {
		out.PaymentData = &paymentDataField{PaymentProcessorName: data.Processor, PaymentFormData: data.FormData, PaymentPageURL: data.PaymentPageURL}
	}
	return out, nil
}

// getBasket shows a basket to its owner or to staff; to anyone else it does not exist.
func (s *Server) getBasket(c *gin.Context) {
	b, _, ok := s.ownBasket(c)
	if !ok {
		return
	}
	s.respondBasket(c, b)
}

// respondBasket answers with the basket, priced.
func (s *Server) respondBasket(c *gin.Context, b commerce.Basket) {
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
	skus := commerce.OneOfEachSKU(c.QueryArray("sku")).SKUs
	if len(skus) == 0 {
		s.fail(c, commerce.Errorf(commerce.EInvalid, "No SKUs provided."))
		return
	}
	buyer, err := s.calculationBuyer(c, user)
	if err != nil {
		s.fail(c, err)
		return
	}
	products, err := s.calculationProducts(ctx, skus)
	if err != nil {
		s.fail(c, err)
		return
	}
	lines := commerce.ItemPriceLines(commerce.OneOfEach(products...))
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

// calculationBuyer is who calculate prices for: the caller, nobody (?is_anonymous=true) or, for
// staff, the learner of ?username= (an unknown learner is priced anonymously).
func (s *Server) calculationBuyer(c *gin.Context, user commerce.User) (*commerce.User, error) {
	username, hasUsername := c.GetQuery("username")
	isAnonymous := strings.EqualFold(c.Query("is_anonymous"), "true")
	switch {
	case hasUsername && isAnonymous:
		return nil, commerce.Errorf(commerce.EInvalid, "Provide username or is_anonymous query param, but not both")
	case isAnonymous:
		return nil, nil
	case !hasUsername || username == user.Username:
		return &user, nil
	case !user.IsStaff:
		return nil, commerce.Errorf(commerce.EForbidden, "Unauthorized user credentials")
	}
	other, err := s.store.UserByUsername(c.Request.Context(), username)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return nil, nil
	}
	return &other, err
}

// calculationProducts returns the products of the SKUs, in order; unknown SKUs are one error.
func (s *Server) calculationProducts(ctx context.Context, skus []string) ([]commerce.Product, error) {
	found, err := s.store.CachedProductsBySKU(ctx, skus)
	if err != nil {
		return nil, err
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
		return nil, commerce.Errorf(commerce.EInvalid, "Products with SKU(s) [%s] do not exist.", strings.Join(missing, ", "))
	}
	return products, nil
}
