// Package commerce is the domain vocabulary of the service: users, courses, products and their
// stock records, baskets, orders and money, with their invariants, sentinel errors and the
// pricing rules as pure functions. It imports none of the adapters (api, db, workflows,
// activities, payment, lms); they all speak in its terms.
package commerce
