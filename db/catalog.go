package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// PublishCourse creates (create true) or updates a course and its seats in one transaction and
// returns the course with every product. Seats are matched by certificate type, verification
// and credit provider; matched seats get the new price, expiry and title, others are created
// with a stable partner SKU. Creating an existing course is an EInvalid error naming "id";
// updating a missing one is commerce.ErrNotFound.
func (s *Store) PublishCourse(ctx context.Context, partner string, pub commerce.Publication, create bool) (commerce.Course, error) {
	if err := pub.Validate(); err != nil {
		return commerce.Course{}, err
	}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if create {
			_, err := s.q.CreateCourse(ctx, tx, dbgen.CreateCourseParams{ID: pub.CourseID, Name: pub.Name, VerificationDeadline: pub.VerificationDeadline})
			if err := interpretError(err); errors.Is(err, commerce.ErrConflict) {
				return commerce.FieldError("id", "A course with id %s already exists; update it with PUT /api/v2/publication/%s", pub.CourseID, pub.CourseID)
			} else if err != nil {
				return fmt.Errorf("create course %s: %w", pub.CourseID, err)
			}
		} else {
			if _, err := s.q.GetCourseForUpdate(ctx, tx, pub.CourseID); err != nil {
				return interpretError(fmt.Errorf("lock course %s: %w", pub.CourseID, err))
			}
			if _, err := s.q.UpdateCourse(ctx, tx, dbgen.UpdateCourseParams{ID: pub.CourseID, Name: pub.Name, VerificationDeadline: pub.VerificationDeadline}); err != nil {
				return interpretError(fmt.Errorf("update course %s: %w", pub.CourseID, err))
			}
		}
		existing, err := s.q.ListProductsOfCourses(ctx, tx, []string{pub.CourseID})
		if err != nil {
			return interpretError(fmt.Errorf("list products of %s: %w", pub.CourseID, err))
		}
		touched := map[int64]bool{}
		for _, spec := range pub.Seats {
			id, err := s.upsertSeat(ctx, tx, partner, pub, spec, existing)
			if err != nil {
				return err
			}
			touched[id] = true
		}
		if pub.CreateEnrollmentCode {
			if err := s.upsertEnrollmentCode(ctx, tx, partner, pub, existing); err != nil {
				return err
			}
		}
		// Seats left out of the publication keep their price but follow the course's name.
		for _, row := range existing {
			if touched[row.Product.ID] || row.Product.ProductClass != string(commerce.ClassSeat) {
				continue
			}
			title := commerce.SeatTitle(pub.Name, row.Product.CertificateType)
			if err := s.q.UpdateProductTitle(ctx, tx, dbgen.UpdateProductTitleParams{ID: row.Product.ID, Title: title}); err != nil {
				return interpretError(fmt.Errorf("retitle product %d: %w", row.Product.ID, err))
			}
		}
		return nil
	})
	if err != nil {
		return commerce.Course{}, err
	}
	s.cache.invalidate()
	return s.Course(ctx, pub.CourseID, true)
}

// upsertEnrollmentCode creates or updates the course's Enrollment Code product, sold at the price
// of the first seat of an enrollment-code type, with the seat's expiry.
func (s *Store) upsertEnrollmentCode(ctx context.Context, tx pgx.Tx, partner string, pub commerce.Publication, existing []dbgen.ListProductsOfCoursesRow) error {
	var seat *commerce.SeatSpec
	for _, t := range commerce.EnrollmentCodeSeatTypes {
		for i := range pub.Seats {
			if seat == nil && commerce.SeatMode(pub.Seats[i]) == t {
				seat = &pub.Seats[i]
			}
		}
	}
	if seat == nil {
		return commerce.FieldError("create_or_activate_enrollment_code", "Enrollment codes need a verified or professional seat.")
	}
	seatType := commerce.SeatMode(*seat)
	title := commerce.EnrollmentCodeTitle(seatType, pub.Name)
	for _, row := range existing {
		if row.Product.ProductClass == string(commerce.ClassEnrollmentCode) && row.Product.SeatType == seatType {
			if err := s.q.UpdateSeat(ctx, tx, dbgen.UpdateSeatParams{ID: row.Product.ID, Title: title, Expires: seat.Expires}); err != nil {
				return interpretError(fmt.Errorf("update enrollment code %d: %w", row.Product.ID, err))
			}
			_, err := s.q.UpdateStockRecordPrice(ctx, tx, dbgen.UpdateStockRecordPriceParams{ID: row.StockRecord.ID, Price: seat.Price, PriceCurrency: seat.Currency})
			return interpretError(err)
		}
	}
	courseID := pub.CourseID
	p, err := s.q.CreateProduct(ctx, tx, dbgen.CreateProductParams{
		ProductClass: string(commerce.ClassEnrollmentCode), CourseID: &courseID, Title: title, Expires: seat.Expires,
		IDVerificationRequired: seat.IDVerificationRequired, CourseKey: &courseID, SeatType: seatType,
	})
	if err != nil {
		return interpretError(fmt.Errorf("create enrollment code of %s: %w", pub.CourseID, err))
	}
	sku := commerce.SKU(fmt.Sprintf("%s %s %s", pub.CourseID, seatType, partner))
	_, err = s.q.CreateStockRecord(ctx, tx, dbgen.CreateStockRecordParams{ProductID: p.ID, PartnerSku: sku, Price: seat.Price, PriceCurrency: seat.Currency})
	return interpretError(err)
}

func (s *Store) upsertSeat(ctx context.Context, tx pgx.Tx, partner string, pub commerce.Publication, spec commerce.SeatSpec, existing []dbgen.ListProductsOfCoursesRow) (int64, error) {
	title := commerce.SeatTitle(pub.Name, spec.CertificateType)
	for _, row := range existing {
		p := row.Product
		if p.ProductClass != string(commerce.ClassSeat) {
			continue
		}
		if !spec.SameKind(commerce.SeatSpec{CertificateType: p.CertificateType, IDVerificationRequired: p.IDVerificationRequired, CreditProvider: p.CreditProvider}) {
			continue
		}
		if err := s.q.UpdateSeat(ctx, tx, dbgen.UpdateSeatParams{ID: p.ID, Title: title, Expires: spec.Expires, CreditHours: convertPtr[int32](spec.CreditHours)}); err != nil {
			return 0, interpretError(fmt.Errorf("update seat %d: %w", p.ID, err))
		}
		if !row.StockRecord.Price.Equal(spec.Price) || row.StockRecord.PriceCurrency != spec.Currency {
			if _, err := s.q.UpdateStockRecordPrice(ctx, tx, dbgen.UpdateStockRecordPriceParams{ID: row.StockRecord.ID, Price: spec.Price, PriceCurrency: spec.Currency}); err != nil {
				return 0, interpretError(fmt.Errorf("update price of seat %d: %w", p.ID, err))
			}
		}
		return p.ID, nil
	}
	courseID := pub.CourseID
	p, err := s.q.CreateProduct(ctx, tx, dbgen.CreateProductParams{
		ProductClass: string(commerce.ClassSeat), CourseID: &courseID, Title: title, Expires: spec.Expires,
		CertificateType: spec.CertificateType, IDVerificationRequired: spec.IDVerificationRequired,
		CourseKey: &courseID, CreditProvider: spec.CreditProvider, CreditHours: convertPtr[int32](spec.CreditHours),
	})
	if err != nil {
		return 0, interpretError(fmt.Errorf("create seat of %s: %w", pub.CourseID, err))
	}
	sku := commerce.SeatSKU(partner, p.ID, spec, pub.CourseID)
	if _, err := s.q.CreateStockRecord(ctx, tx, dbgen.CreateStockRecordParams{ProductID: p.ID, PartnerSku: sku, Price: spec.Price, PriceCurrency: spec.Currency}); err != nil {
		return 0, interpretError(fmt.Errorf("create stock record %s: %w", sku, err))
	}
	return p.ID, nil
}

// Course returns the course with that id, with its products when withProducts is set, or
// commerce.ErrNotFound.
func (s *Store) Course(ctx context.Context, id string, withProducts bool) (commerce.Course, error) {
	row, err := s.q.GetCourse(ctx, s.pool, id)
	if err != nil {
		return commerce.Course{}, interpretError(fmt.Errorf("get course %s: %w", id, err))
	}
	c := courseFromRow(row)
	if withProducts {
		if err := s.attachProducts(ctx, []*commerce.Course{&c}); err != nil {
			return commerce.Course{}, err
		}
	}
	return c, nil
}

// Courses returns a page of courses (with their products when withProducts is set) and the total count.
func (s *Store) Courses(ctx context.Context, page commerce.Page, withProducts bool) ([]commerce.Course, int64, error) {
	total, err := s.q.CountCourses(ctx, s.pool)
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count courses: %w", err))
	}
	rows, err := s.q.ListCourses(ctx, s.pool, dbgen.ListCoursesParams{PageLimit: int32(page.Limit), PageOffset: int32(page.Offset)})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list courses: %w", err))
	}
	courses := make([]commerce.Course, len(rows))
	ptrs := make([]*commerce.Course, len(rows))
	for i, r := range rows {
		courses[i] = courseFromRow(r)
		ptrs[i] = &courses[i]
	}
	if withProducts {
		if err := s.attachProducts(ctx, ptrs); err != nil {
			return nil, 0, err
		}
	}
	return courses, total, nil
}

func (s *Store) attachProducts(ctx context.Context, courses []*commerce.Course) error {
	if len(courses) == 0 {
		return nil
	}
	ids := make([]string, len(courses))
	byID := make(map[string]*commerce.Course, len(courses))
	for i, c := range courses {
		ids[i] = c.ID
		byID[c.ID] = c
		c.Products = []commerce.Product{}
	}
	rows, err := s.q.ListProductsOfCourses(ctx, s.pool, ids)
	if err != nil {
		return interpretError(fmt.Errorf("list products of courses: %w", err))
	}
	for _, r := range rows {
		p := productFromRows(r.Product, r.StockRecord)
		if c := byID[p.CourseID]; c != nil {
			c.Products = append(c.Products, p)
		}
	}
	return nil
}

// Products returns a page of products with their stock records and the total count.
func (s *Store) Products(ctx context.Context, f commerce.ProductFilter, page commerce.Page) ([]commerce.Product, int64, error) {
	var courseID, class *string
	if f.CourseID != "" {
		courseID = &f.CourseID
	}
	if f.Class != "" {
		c := string(f.Class)
		class = &c
	}
	total, err := s.q.CountProducts(ctx, s.pool, dbgen.CountProductsParams{CourseID: courseID, ProductClass: class})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("count products: %w", err))
	}
	rows, err := s.q.ListProductsWithStock(ctx, s.pool, dbgen.ListProductsWithStockParams{
		CourseID: courseID, ProductClass: class, PageLimit: int32(page.Limit), PageOffset: int32(page.Offset),
	})
	if err != nil {
		return nil, 0, interpretError(fmt.Errorf("list products: %w", err))
	}
	out := make([]commerce.Product, len(rows))
	for i, r := range rows {
		out[i] = productFromRows(r.Product, r.StockRecord)
	}
	return out, total, nil
}

// Product returns the product with that id and its stock record, or commerce.ErrNotFound.
func (s *Store) Product(ctx context.Context, id int64) (commerce.Product, error) {
	r, err := s.q.GetProductWithStock(ctx, s.pool, id)
	if err != nil {
		return commerce.Product{}, interpretError(fmt.Errorf("get product %d: %w", id, err))
	}
	return productFromRows(r.Product, r.StockRecord), nil
}

// ProductsBySKU returns the products sold under the given SKUs, keyed by SKU; unknown SKUs
// are absent from the map.
func (s *Store) ProductsBySKU(ctx context.Context, skus []string) (map[string]commerce.Product, error) {
	rows, err := s.q.GetProductsBySKUs(ctx, s.pool, skus)
	if err != nil {
		return nil, interpretError(fmt.Errorf("get products by sku: %w", err))
	}
	out := make(map[string]commerce.Product, len(rows))
	for _, r := range rows {
		out[r.StockRecord.PartnerSku] = productFromRows(r.Product, r.StockRecord)
	}
	return out, nil
}

// StockRecordBySKU returns the product sold under sku with its stock record, or commerce.ErrNotFound.
func (s *Store) StockRecordBySKU(ctx context.Context, sku string) (commerce.Product, error) {
	m, err := s.ProductsBySKU(ctx, []string{sku})
	if err != nil {
		return commerce.Product{}, err
	}
	p, ok := m[sku]
	if !ok {
		return commerce.Product{}, fmt.Errorf("stock record %s: %w", sku, commerce.ErrNotFound)
	}
	return p, nil
}

// UpdatePrice sets the price and currency of the stock record sold under sku and returns it.
func (s *Store) UpdatePrice(ctx context.Context, sku string, price commerce.StockRecord) (commerce.StockRecord, error) {
	current, err := s.StockRecordBySKU(ctx, sku)
	if err != nil {
		return commerce.StockRecord{}, err
	}
	row, err := s.q.UpdateStockRecordPrice(ctx, s.pool, dbgen.UpdateStockRecordPriceParams{ID: current.StockRecord.ID, Price: price.Price, PriceCurrency: price.Currency})
	if err != nil {
		return commerce.StockRecord{}, interpretError(fmt.Errorf("update price of %s: %w", sku, err))
	}
	s.cache.invalidate()
	return stockRecordFromRow(row), nil
}

// ProductsInRange returns up to limit products a range holds (explicit products, then seats of
// its seat types; a range of all products lists nothing: it is unbounded).
func (s *Store) ProductsInRange(ctx context.Context, r commerce.Range, limit int) ([]commerce.Product, error) {
	var out []commerce.Product
	seen := map[int64]bool{}
	if len(r.ProductIDs) > 0 {
		rows, err := s.q.ListProductsByIDs(ctx, s.pool, r.ProductIDs)
		if err != nil {
			return nil, interpretError(fmt.Errorf("products of range: %w", err))
		}
		for _, row := range rows {
			seen[row.Product.ID] = true
			out = append(out, productFromRows(row.Product, row.StockRecord))
		}
	}
	if len(r.SeatTypes) > 0 && len(out) < limit {
		rows, err := s.q.ListSeatsOfTypes(ctx, s.pool, dbgen.ListSeatsOfTypesParams{SeatTypes: r.SeatTypes, PageLimit: int32(limit)})
		if err != nil {
			return nil, interpretError(fmt.Errorf("seats of range: %w", err))
		}
		for _, row := range rows {
			if !seen[row.Product.ID] {
				out = append(out, productFromRows(row.Product, row.StockRecord))
			}
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
