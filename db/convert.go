package db

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
)

func userFromRow(r dbgen.User) commerce.User {
	return commerce.User{
		ID: r.ID, Username: r.Username, Email: r.Email, FullName: r.FullName,
		IsStaff: r.IsStaff, LMSUserID: r.LMSUserID, DateJoined: r.DateJoined,
	}
}

func courseFromRow(r dbgen.Course) commerce.Course {
	return commerce.Course{
		ID: r.ID, Name: r.Name, VerificationDeadline: r.VerificationDeadline,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func stockRecordFromRow(r dbgen.StockRecord) commerce.StockRecord {
	return commerce.StockRecord{
		ID: r.ID, ProductID: r.ProductID, PartnerSKU: r.PartnerSku, Price: r.Price,
		Currency: r.PriceCurrency, UpdatedAt: r.UpdatedAt,
	}
}

func productFromRows(p dbgen.Product, s dbgen.StockRecord) commerce.Product {
	out := commerce.Product{
		ID: p.ID, Class: commerce.ProductClass(p.ProductClass), Title: p.Title, Expires: p.Expires,
		CertificateType: p.CertificateType, IDVerificationRequired: p.IDVerificationRequired,
		CreditProvider: p.CreditProvider, SeatType: p.SeatType,
		StockRecord: stockRecordFromRow(s), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p.CourseID != nil {
		out.CourseID = *p.CourseID
	}
	if p.CreditHours != nil {
		h := int(*p.CreditHours)
		out.CreditHours = &h
	}
	return out
}

func checkoutFromRow(r dbgen.Checkout) (commerce.Checkout, commerce.PaymentData, error) {
	var c commerce.Checkout
	if err := json.Unmarshal(r.Snapshot, &c); err != nil {
		return c, commerce.PaymentData{}, fmt.Errorf("decode checkout %s: %w", r.OrderNumber, err)
	}
	data := commerce.PaymentData{Processor: r.PaymentProcessor, PaymentPageURL: r.PaymentPageUrl}
	if err := json.Unmarshal(r.PaymentFormData, &data.FormData); err != nil {
		return c, data, fmt.Errorf("decode payment form of %s: %w", r.OrderNumber, err)
	}
	return c, data, nil
}

func orderFromRow(o dbgen.Order, username, email string) commerce.Order {
	return commerce.Order{
		ID: o.ID, Number: o.Number, BasketID: o.BasketID, UserID: o.UserID, Username: username, Email: email,
		Currency: o.Currency, TotalInclTax: o.TotalInclTax, TotalExclTax: o.TotalExclTax,
		TotalBeforeDiscountsInclTax: o.TotalBeforeDiscountsInclTax, Status: commerce.OrderStatus(o.Status),
		PaymentProcessor: o.PaymentProcessor, DatePlaced: o.DatePlaced.UTC().Truncate(time.Second),
	}
}

func orderLineFromRow(l dbgen.OrderLine) commerce.OrderLine {
	out := commerce.OrderLine{
		ID: l.ID, SKU: l.PartnerSku, Title: l.Title, Quantity: int(l.Quantity), UnitPrice: l.UnitPriceInclTax,
		LinePrice: l.LinePriceInclTax, LinePriceBeforeDiscounts: l.LinePriceBeforeDiscountsInclTax,
		Status: commerce.LineStatus(l.Status), FulfillmentAttempts: int(l.FulfillmentAttempts), FulfillmentError: l.FulfillmentError,
	}
	if l.ProductID != nil {
		out.ProductID = *l.ProductID
	}
	if l.CourseID != nil {
		out.CourseID = *l.CourseID
	}
	return out
}

func refundFromRow(r dbgen.Refund, username, email string) commerce.Refund {
	out := commerce.Refund{
		ID: r.ID, OrderNumber: r.OrderNumber, UserID: r.UserID, Username: username, Email: email,
		Total: r.TotalCreditExclTax, Currency: r.Currency, Status: commerce.RefundStatus(r.Status),
		Processor: r.Processor, Reference: r.Reference, Reason: r.Reason,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.OrderID != nil {
		out.OrderID = *r.OrderID
	}
	return out
}

func refundLineFromRow(l dbgen.ListRefundLinesRow) commerce.RefundLine {
	out := commerce.RefundLine{
		ID: l.ID, OrderLineID: l.OrderLineID, SKU: l.PartnerSku, Title: l.Title, CourseID: l.CourseID,
		Credit: l.LineCreditExclTax, Quantity: int(l.Quantity), Status: commerce.RefundLineStatus(l.Status),
	}
	class := commerce.ProductClass(l.ProductClass)
	if class != "" && class != commerce.ClassCoupon {
		out.Mode = commerce.Product{
			Class: class, CertificateType: l.CertificateType, SeatType: l.SeatType, IDVerificationRequired: l.IDVerificationRequired,
		}.Mode()
	}
	return out
}

func offerFromRow(o dbgen.Offer, includesAll bool, seatTypes []string, productIDs []int64) commerce.Offer {
	out := commerce.Offer{
		ID: o.ID, Name: o.Name, Type: commerce.OfferType(o.OfferType), Priority: int(o.Priority), Exclusive: o.Exclusive,
		Status: commerce.OfferStatus(o.Status), Start: o.StartDatetime, End: o.EndDatetime,
		Range:                 commerce.Range{IncludesAllProducts: includesAll, ProductIDs: productIDs, SeatTypes: seatTypes},
		Condition:             commerce.Condition{Type: commerce.ConditionType(o.ConditionType), Value: o.ConditionValue},
		Benefit:               commerce.Benefit{Type: commerce.BenefitType(o.BenefitType), Value: o.BenefitValue},
		MaxGlobalApplications: convertPtr[int](o.MaxGlobalApplications), MaxUserApplications: convertPtr[int](o.MaxUserApplications),
		MaxBasketApplications: convertPtr[int](o.MaxBasketApplications), MaxDiscount: o.MaxDiscount,
		EmailDomains:    commerce.ParseEmailDomains(o.EmailDomains),
		NumApplications: int(o.NumApplications), TotalDiscount: o.TotalDiscount, NumOrders: int(o.NumOrders), CreatedAt: o.CreatedAt,
	}
	if o.MaxAffectedItems != nil {
		out.Benefit.MaxAffectedItems = int(*o.MaxAffectedItems)
	}
	return out
}

func voucherFromRow(v dbgen.Voucher) commerce.Voucher {
	return commerce.Voucher{
		ID: v.ID, Code: v.Code, Name: v.Name, Usage: commerce.VoucherUsage(v.Usage), Start: v.StartDatetime, End: v.EndDatetime,
		NumBasketAdditions: int(v.NumBasketAdditions), NumOrders: int(v.NumOrders), TotalDiscount: v.TotalDiscount, CreatedAt: v.CreatedAt,
	}
}

// maxAffectedItems is a benefit's bound on discounted items as stored: NULL for no bound (0).
func maxAffectedItems(b commerce.Benefit) *int32 {
	if b.MaxAffectedItems <= 0 {
		return nil
	}
	return convertPtr[int32](&b.MaxAffectedItems)
}

// convertPtr converts a nullable integer between commerce's int and the database's int32; nil
// stays nil (and a zero stays a zero).
func convertPtr[To, From int | int32](p *From) *To {
	if p == nil {
		return nil
	}
	v := To(*p)
	return &v
}
