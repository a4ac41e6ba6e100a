package main

import (
	"fmt"
	"io"
	"time"

	"github.com/coursecommerce/commerce/auth"
)

// tokenCommand prints a JWT accepted by this configuration.
func tokenCommand(cfg config, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", stderr)
	username := fs.String("username", "", "username (preferred_username claim); required")
	admin := fs.Bool("admin", false, "mark the user as staff (administrator claim)")
	email := fs.String("email", "", "email claim (default <username>@example.com)")
	fullName := fs.String("full-name", "", "full_name claim")
	lmsUserID := fs.Int64("lms-user-id", 0, "user_id claim (LMS user id)")
	ttl := fs.Duration("ttl", 8*time.Hour, "lifetime of the token")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *username == "" {
		fs.Usage()
		return fmt.Errorf("%w: --username is required", errUsage)
	}
	if *email == "" {
		*email = *username + "@example.com"
	}
	token, err := auth.Mint(cfg.JWTSecretKey, auth.TokenOptions{
		Username: *username, Email: *email, FullName: *fullName, Admin: *admin,
		LMSUserID: *lmsUserID, Issuer: cfg.issuers()[0], TTL: *ttl,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	return nil
}
