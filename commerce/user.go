package commerce

import "time"

// User is a learner or staff member, mirrored from the LMS through its JWT claims.
type User struct {
	ID         int64
	Username   string
	Email      string
	FullName   string
	IsStaff    bool
	LMSUserID  *int64
	DateJoined time.Time
}

// UserClaims are the identity claims of a verified LMS JWT. A nil field was absent from the
// token and leaves the stored value unchanged.
type UserClaims struct {
	Username  string
	Email     *string
	FullName  *string
	IsStaff   *bool
	LMSUserID *int64
}
