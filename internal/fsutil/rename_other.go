//go:build !linux && !darwin

package fsutil

import "errors"

// RenameNoReplace is not available here: the caller does without it.
func RenameNoReplace(from, to string) error { return errors.ErrUnsupported }
