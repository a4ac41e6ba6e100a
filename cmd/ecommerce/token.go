package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/coursecommerce/commerce/auth"
)

// tokenFlags are the flags of `ecommerce token`.
type tokenFlags struct {
	username, email, fullName string
	admin, cookies            bool
	userID                    int64
	ttl                       time.Duration
	signingJWK, generateJWK   string
	kid                       string
}

// parseTokenFlags reads the flags of `ecommerce token`.
func parseTokenFlags(args []string, stderr io.Writer) (tokenFlags, *flag.FlagSet, error) {
	var f tokenFlags
	fs := newFlagSet("token", stderr)
	fs.StringVar(&f.username, "username", "", "username (preferred_username claim); required")
	fs.BoolVar(&f.admin, "admin", false, "mark the user as staff (administrator claim)")
	fs.StringVar(&f.email, "email", "", "email claim (default <username>@example.com)")
	fs.StringVar(&f.fullName, "full-name", "", "full_name and name claims (name defaults to the username)")
	fs.Int64Var(&f.userID, "user-id", 0, "user_id claim, the LMS user id (default: a stable number derived from the username)")
	fs.Int64Var(&f.userID, "lms-user-id", 0, "same as --user-id")
	fs.DurationVar(&f.ttl, "ttl", 8*time.Hour, "lifetime of the token")
	fs.BoolVar(&f.cookies, "cookies", false, "print the LMS's two JWT cookies (a Cookie header value) instead of the token")
	fs.StringVar(&f.signingJWK, "signing-jwk", "", "sign RS256/RS512 with the RSA private JWK in this file (its public key must be in JWT_PUBLIC_SIGNING_JWK_SET) instead of HS256 with JWT_SECRET_KEY")
	fs.StringVar(&f.generateJWK, "generate-jwk", "", "write a new development RSA private JWK to this file and print the matching JWT_PUBLIC_SIGNING_JWK_SET=... line; mints no token")
	fs.StringVar(&f.kid, "kid", "dev-rsa-1", "kid of the key --generate-jwk makes")
	if err := fs.Parse(args); err != nil {
		return f, fs, fmt.Errorf("%w: %v", errUsage, err)
	}
	return f, fs, nil
}

// tokenCommand prints a JWT accepted by this configuration, or its two cookies, or makes a
// development RSA key (see parseTokenFlags). Tokens carry what edX's payment page reads:
// preferred_username, user_id, email, name, administrator, exp, iat and iss.
func tokenCommand(cfg config, args []string, stdout, stderr io.Writer) error {
	f, fs, err := parseTokenFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.generateJWK != "" {
		return generateJWK(f.generateJWK, f.kid, stdout)
	}
	if f.username == "" {
		fs.Usage()
		return fmt.Errorf("%w: --username is required", errUsage)
	}
	if f.email == "" {
		f.email = f.username + "@example.com"
	}
	if f.userID == 0 {
		f.userID = auth.DevUserID(f.username)
	}
	opts := auth.TokenOptions{
		Username: f.username, Email: f.email, FullName: f.fullName, Admin: f.admin,
		LMSUserID: f.userID, Issuer: cfg.issuers()[0], TTL: f.ttl,
	}
	var token string
	if f.signingJWK != "" {
		key, err := os.ReadFile(f.signingJWK)
		if err != nil {
			return fmt.Errorf("read --signing-jwk: %w", err)
		}
		token, err = auth.MintWithJWK(key, opts)
		if err != nil {
			return fmt.Errorf("mint RSA token: %w", err)
		}
	} else if token, err = auth.Mint(cfg.JWTSecretKey, opts); err != nil {
		return fmt.Errorf("mint HS256 token: %w", err)
	}
	if !f.cookies {
		fmt.Fprintln(stdout, token)
		return nil
	}
	headerPayload, signature, err := auth.SplitToken(token)
	if err != nil {
		return fmt.Errorf("split token into cookies: %w", err)
	}
	fmt.Fprintf(stdout, "%s=%s; %s=%s\n", auth.HeaderPayloadCookie, headerPayload, auth.SignatureCookie, signature)
	return nil
}

// generateJWK writes a new development RSA private JWK to path (readable by its owner only)
// and prints the public JWK set as a JWT_PUBLIC_SIGNING_JWK_SET assignment for a shell.
func generateJWK(path, kid string, stdout io.Writer) error {
	private, public, err := auth.GenerateDevJWK(kid)
	if err != nil {
		return fmt.Errorf("generate development JWK: %w", err)
	}
	if err := os.WriteFile(path, append(private, '\n'), 0o600); err != nil {
		return fmt.Errorf("write --generate-jwk: %w", err)
	}
	fmt.Fprintf(stdout, "JWT_PUBLIC_SIGNING_JWK_SET='%s'\n", public)
	return nil
}
