package db

import (
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

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}
