package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/coursecommerce/commerce/db/internal/dbgen"
	"github.com/jackc/pgx/v5"
)

// ReplaceOpenBasket empties the user's open basket (creating it if the user has none) and
// fills it with the items at their current stock-record price, in one transaction. A user has
// at most one open basket; concurrent calls serialise on it.
func (s *Store) ReplaceOpenBasket(ctx context.Context, ownerID int64, items []commerce.BasketItem) (commerce.Basket, error) {
	var basketID int64
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		b, err := s.lockOpenBasket(ctx, tx, ownerID)
		if err != nil {
			return err
		}
		basketID = b.ID
		if err := s.q.DeleteBasketLines(ctx, tx, b.ID); err != nil {
			return interpretError(fmt.Errorf("empty basket %d: %w", b.ID, err))
		}
		for _, item := range items {
			p := item.Product
			err := s.q.CreateBasketLine(ctx, tx, dbgen.CreateBasketLineParams{
				BasketID: b.ID, ProductID: p.ID, StockRecordID: p.StockRecord.ID, Quantity: int32(max(item.Quantity, 1)),
				PriceCurrency: p.StockRecord.Currency, Price: p.StockRecord.Price,
			})
			if err != nil {
				return interpretError(fmt.Errorf("add product %d to basket %d: %w", p.ID, b.ID, err))
			}
		}
		return nil
	})
	if err != nil {
		return commerce.Basket{}, err
	}
	return s.Basket(ctx, basketID)
}

// lockOpenBasket returns the owner's open basket, locked for the transaction, creating it first
// when there is none.
func (s *Store) lockOpenBasket(ctx context.Context, tx pgx.Tx, ownerID int64) (dbgen.Basket, error) {
	for attempt := 0; attempt < 2; attempt++ {
		b, err := s.q.GetOpenBasketForUpdate(ctx, tx, ownerID)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return dbgen.Basket{}, interpretError(fmt.Errorf("lock open basket of user %d: %w", ownerID, err))
		}
		b, err = s.q.CreateBasket(ctx, tx, ownerID)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) { // no rows: another transaction created it first
			return dbgen.Basket{}, interpretError(fmt.Errorf("create basket for user %d: %w", ownerID, err))
		}
	}
	return dbgen.Basket{}, fmt.Errorf("open basket of user %d: %w", ownerID, commerce.ErrConflict)
}

// Basket returns the basket with that id and its lines, or commerce.ErrNotFound.
func (s *Store) Basket(ctx context.Context, id int64) (commerce.Basket, error) {
	return s.loadBasket(ctx, s.pool, id)
}

func (s *Store) loadBasket(ctx context.Context, db dbgen.DBTX, id int64) (commerce.Basket, error) {
	row, err := s.q.GetBasket(ctx, db, id)
	if err != nil {
		return commerce.Basket{}, interpretError(fmt.Errorf("get basket %d: %w", id, err))
	}
	lines, err := s.q.ListBasketLines(ctx, db, id)
	if err != nil {
		return commerce.Basket{}, interpretError(fmt.Errorf("list lines of basket %d: %w", id, err))
	}
	b := commerce.Basket{
		ID: row.ID, OwnerID: row.OwnerID, OwnerUsername: row.OwnerUsername,
		Status: commerce.BasketStatus(row.Status), CreatedAt: row.CreatedAt, DateSubmitted: row.DateSubmitted,
		Lines: make([]commerce.BasketLine, len(lines)),
	}
	for i, l := range lines {
		b.Lines[i] = commerce.BasketLine{
			ID: l.LineID, Product: productFromRows(l.Product, l.StockRecord), Quantity: int(l.Quantity),
			Currency: l.LineCurrency, UnitPrice: l.UnitPrice,
		}
	}
	return b, nil
}

// PurchasedProducts returns which of the given products the user has already bought (in an
// order line not refunded).
func (s *Store) PurchasedProducts(ctx context.Context, userID int64, productIDs []int64) (map[int64]bool, error) {
	ids, err := s.q.ListPurchasedProductIDs(ctx, s.pool, dbgen.ListPurchasedProductIDsParams{UserID: userID, ProductIds: productIDs})
	if err != nil {
		return nil, interpretError(fmt.Errorf("list purchased products of user %d: %w", userID, err))
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// OpenBasket returns the owner's open basket with its lines, or commerce.ErrNotFound when the
// owner has none. It creates nothing.
func (s *Store) OpenBasket(ctx context.Context, ownerID int64) (commerce.Basket, error) {
	id, err := s.q.GetOpenBasketID(ctx, s.pool, ownerID)
	if err != nil {
		return commerce.Basket{}, interpretError(fmt.Errorf("find the open basket of user %d: %w", ownerID, err))
	}
	return s.loadBasket(ctx, s.pool, id)
}
