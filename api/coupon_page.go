package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// offerPageSeats bounds how many products of each of a code's offers the offer page lists.
const offerPageSeats = 100

// offerView is what the coupon offer page shows: the code, until when it is valid, and the
// seats it discounts, each with a button that puts it in the learner's basket with the code.
type offerView struct {
	// Base is the service's public URL, before the buttons' paths.
	Base  string
	Code  string
	End   time.Time
	Seats []offerSeat
	// Benefits describe the code's offers when no seat is listed (a range of all products).
	Benefits []string
}

// offerSeat is a product the code applies to.
type offerSeat struct {
	Title, Mode, Benefit, Price, SKU string
	// Applies is whether the code takes something off the seat bought alone (what the button
	// does); a seat it does not is listed without a button.
	Applies bool
}

// offeredProduct is a product of a code's offer and that offer's benefit.
type offeredProduct struct {
	product commerce.Product
	benefit commerce.Benefit
}

// couponOffer serves GET /coupons/offer/?code=X, the coupons' redeem_url: what the code gives
// the logged-in learner (not logged in: to the LMS login and back). A code the learner cannot
// use is a 400 page with the vouchers API's message.
func (f *shopFront) couponOffer(c *gin.Context) {
	user, ok := f.loggedIn(c)
	if !ok {
		return
	}
	v, err := f.offerView(c.Request.Context(), user, c.Query("code"))
	if err != nil {
		f.failPage(c, err)
		return
	}
	f.renderShopPage(c, http.StatusOK, "coupon-offer", v)
}

// offerView checks the code for the user and its seats (validVoucher: exists, active,
// available to the user, not used up, for the user's email) and describes what it gives.
func (f *shopFront) offerView(ctx context.Context, user commerce.User, raw string) (offerView, error) {
	if strings.TrimSpace(raw) == "" {
		return offerView{}, commerce.Errorf(commerce.EInvalid, "A coupon code is required.")
	}
	voucher, offered, err := f.offeredProducts(ctx, raw)
	if err != nil {
		return offerView{}, err
	}
	if voucher == nil || len(offered) > 0 { // an unknown code is refused here, with its message
		items := make([]commerce.BasketItem, len(offered))
		for i, o := range offered {
			items[i] = commerce.BasketItem{Product: o.product, Quantity: 1}
		}
		if _, err := f.validVoucher(ctx, raw, commerce.ItemPriceLines(items), user, 0); err != nil {
			return offerView{}, err
		}
	}
	if voucher == nil { // created since it was looked up: the learner may reload
		return offerView{}, commerce.ErrNotFound
	}
	v := offerView{Base: f.publicURL, Code: voucher.Code, End: voucher.End}
	if len(offered) == 0 {
		for _, o := range voucher.Offers {
			v.Benefits = append(v.Benefits, benefitText(string(o.Benefit.Type), o.Benefit.Value, commerce.DefaultCurrency))
		}
	}
	names := map[string]string{}
	for _, o := range offered {
		seat, err := f.offerSeat(ctx, *voucher, o, user, names)
		if err != nil {
			return offerView{}, err
		}
		v.Seats = append(v.Seats, seat)
	}
	return v, nil
}

// offeredProducts finds the voucher of code (nil when there is none) and the products its
// offers apply to that can be bought now, each once, with the benefit of its first offer.
func (f *shopFront) offeredProducts(ctx context.Context, raw string) (*commerce.Voucher, []offeredProduct, error) {
	code, err := commerce.NormalizeCode(raw)
	if err != nil {
		return nil, nil, nil
	}
	v, err := f.store.VoucherByCode(ctx, code)
	if commerce.ErrorCodeOf(err) == commerce.ENotFound {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	var out []offeredProduct
	seen := map[int64]bool{}
	now := f.now()
	for _, o := range v.Offers {
		products, err := f.store.ProductsInRange(ctx, o.Range, offerPageSeats)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range products {
			if !seen[p.ID] && p.AvailableAt(now) {
				seen[p.ID] = true
				out = append(out, offeredProduct{product: p, benefit: o.Benefit})
			}
		}
	}
	return &v, out, nil
}

// offerSeat describes an offered product for the user; names remembers course names.
func (f *shopFront) offerSeat(ctx context.Context, v commerce.Voucher, o offeredProduct, user commerce.User, names map[string]string) (offerSeat, error) {
	p := o.product
	title, err := f.courseName(ctx, p.CourseID, names)
	if err != nil {
		return offerSeat{}, err
	}
	if title == "" {
		title = p.Title
	}
	mode := p.CertificateType
	if mode == "" {
		mode = p.SeatType
	}
	kind := productKind(string(p.Class))
	if mode != "" {
		kind += " (" + mode + ")"
	}
	applies, err := f.discountsBasket(ctx, v, commerce.ItemPriceLines([]commerce.BasketItem{{Product: p, Quantity: 1}}), user)
	if err != nil {
		return offerSeat{}, err
	}
	currency := p.StockRecord.Currency
	return offerSeat{Title: title, Mode: kind, SKU: p.StockRecord.PartnerSKU, Applies: applies,
		Benefit: benefitText(string(o.benefit.Type), o.benefit.Value, currency),
		Price:   commerce.FormatMoney(p.StockRecord.Price) + " " + currency}, nil
}
