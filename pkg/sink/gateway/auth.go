package gateway

import (
	"fmt"
	"strings"
)

// AuthMode is how a gateway push is authenticated.
type AuthMode int

// The modes of --metrics-auth.
const (
	AuthNone       AuthMode = iota // no credentials
	AuthTokenFile                  // Bearer token read from a file
	AuthBasicFile                  // HTTP Basic "user:password" read from a file
	AuthPullSecret                 // Bearer = the cloud.openshift.com auth of the pull secret
)

// Auth is a parsed --metrics-auth value. Files are read at send time, so a
// rotated token is picked up and nothing secret is held longer than needed.
type Auth struct {
	Mode AuthMode
	Path string // for AuthTokenFile and AuthBasicFile
}

// String returns the flag form (never a secret: only a path).
func (a Auth) String() string {
	switch a.Mode {
	case AuthTokenFile:
		return "token-file:" + a.Path
	case AuthBasicFile:
		return "basic-file:" + a.Path
	case AuthPullSecret:
		return "pull-secret"
	}
	return "none"
}

// ParseAuth validates a --metrics-auth value: none, token-file:PATH,
// basic-file:PATH or pull-secret. It reads no file.
func ParseAuth(v string) (Auth, error) {
	mode, path, hasPath := strings.Cut(strings.TrimSpace(v), ":")
	switch {
	case v == "" || v == "none":
		return Auth{Mode: AuthNone}, nil
	case v == "pull-secret":
		return Auth{Mode: AuthPullSecret}, nil
	case (mode == "token-file" || mode == "basic-file") && hasPath && path != "":
		if mode == "token-file" {
			return Auth{Mode: AuthTokenFile, Path: path}, nil
		}
		return Auth{Mode: AuthBasicFile, Path: path}, nil
	}
	// Quote only the mode: what follows a ':' may be a token typed inline.
	return Auth{}, fmt.Errorf("%q is not none, token-file:PATH, basic-file:PATH or pull-secret", authModeOnly(v))
}

// authModeOnly is v up to its first ':', with what followed elided.
func authModeOnly(v string) string {
	if mode, _, ok := strings.Cut(v, ":"); ok {
		return mode + ":…"
	}
	return v
}
