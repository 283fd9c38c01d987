package cmdline

import (
	"errors"
	"io/fs"
	"os"
)

// defaultName is the installer looked up on $PATH when no path is given.
const defaultName = "openshift-install"

// NotFoundError says that the installer could not be found, or was found but
// cannot be executed. Its exit code is the shell's: 127 or 126.
type NotFoundError struct {
	// Tried names the one place that was looked at, the way the user gave
	// it: "--installer ./oi", "$INSTALL_METRICS_INSTALLER=/opt/oi" or
	// "openshift-install on $PATH".
	Tried string
	// Path is the file that exists but cannot be executed; "" when nothing
	// was found.
	Path string
	// Err is the underlying cause.
	Err error
}

// Error is one line: what was tried and what to do.
func (e *NotFoundError) Error() string {
	if e.Path != "" {
		return "installer not executable: " + e.Tried + ": " + e.Path + ": " + e.Err.Error() +
			"; make it executable (chmod +x) or pass --installer PATH"
	}
	return "installer not found: " + e.Tried + ": " + e.Err.Error() + "; install openshift-install or pass --installer PATH"
}

// Unwrap returns the cause.
func (e *NotFoundError) Unwrap() error { return e.Err }

// ExitCode is 126 when the installer exists but cannot be executed, else 127:
// the shell's codes, installer.ExitNotExecutable and installer.ExitNotFound
// (not imported here; see the package comment).
func (e *NotFoundError) ExitCode() int {
	if e.Path != "" {
		return 126
	}
	return 127
}

var (
	errNoSuchFile  = errors.New("no such file")
	errNotInPath   = errors.New("not found in any $PATH directory")
	errIsDirectory = errors.New("is a directory")
	errNoExecBit   = errors.New("permission denied")
)

// Find locates the installer like a shell would: flagPath if set, else
// envPath if set, else "openshift-install" on $PATH. A name without a slash
// is searched on $PATH; one with a slash is used as it is. Only the first of
// the three that is set is tried: an explicit path that does not exist is an
// error, never a reason to run some other installer. The error is a
// *NotFoundError.
func Find(flagPath, envPath string) (string, error) {
	name, tried := defaultName, defaultName+" on $PATH"
	switch {
	case flagPath != "":
		name, tried = flagPath, "--installer "+flagPath
	case envPath != "":
		name, tried = envPath, "$INSTALL_METRICS_INSTALLER="+envPath
	}
	if contains(name, '/') {
		if err := executable(name); err != nil {
			return "", notFound(tried, name, err)
		}
		return name, nil
	}
	var denied string
	var deniedErr error
	for rest, more := os.Getenv("PATH"), true; more; {
		var dir string
		dir, rest, more = cut(rest, ':')
		if dir == "" {
			dir = "." // an empty $PATH element means the current directory
		}
		p := join(dir, name)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, errNoSuchFile) && denied == "" {
			denied, deniedErr = p, err
		}
	}
	if denied != "" {
		return "", &NotFoundError{Tried: tried, Path: denied, Err: deniedErr}
	}
	return "", &NotFoundError{Tried: tried, Err: errNotInPath}
}

// notFound builds the error for an explicit path.
func notFound(tried, path string, err error) error {
	if errors.Is(err, errNoSuchFile) {
		return &NotFoundError{Tried: tried, Err: err}
	}
	return &NotFoundError{Tried: tried, Path: path, Err: err}
}

// executable reports why path cannot be executed, or nil. Like a shell, it
// trusts the mode bits; anything finer (ownership, noexec mounts) shows up
// when the process is started.
func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNoSuchFile
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	case fi.IsDir():
		return errIsDirectory
	case fi.Mode()&0o111 == 0:
		return errNoExecBit
	}
	return nil
}

// join is filepath.Join(dir, name) for a name without a slash, short of
// cleaning dir.
func join(dir, name string) string {
	if dir == "." {
		return name
	}
	if dir[len(dir)-1] == '/' {
		return dir + name
	}
	return dir + "/" + name
}
