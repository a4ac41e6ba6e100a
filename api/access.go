package api

import (
	"strconv"

	"github.com/coursecommerce/commerce/commerce"
	"github.com/gin-gonic/gin"
)

// visibleTo is the one owner-or-staff rule: a learner sees only their own baskets and orders,
// staff see everyone's, and to anyone else the object does not exist (commerce.ErrNotFound).
func visibleTo(user commerce.User, ownerID int64) error {
	if ownerID == user.ID || user.IsStaff {
		return nil
	}
	return commerce.ErrNotFound
}

// pathID reads the positive integer id of the path; anything else is answered 404.
func (s *Server) pathID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, commerce.ErrNotFound)
		return 0, false
	}
	return id, true
}
