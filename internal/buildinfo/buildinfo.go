// Package buildinfo says which install-metrics this is: for `metrics
// version` and for the User-Agent of pushes.
//
// The version is, in order: what the linker set (make build, make release:
// -X github.com/install-metrics/install-metrics/internal/buildinfo.version=v1.2.3),
// the module version of `go install …/cmd/install-metrics@v1.2.3`, the VCS
// revision of a plain `go build` in a checkout (12 hex digits, "+dirty" when
// the tree had changes), else "devel".
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// version is set by the linker; "" when not.
var version = ""

var cached = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuild(nil)
	}
	return fromBuild(bi)
})

// Version is install-metrics' own version (see the package comment).
func Version() string {
	if version != "" {
		return version
	}
	return cached()
}

// UserAgent is the User-Agent of install-metrics' HTTP requests.
func UserAgent() string { return "install-metrics/" + Version() }

// fromBuild picks the version from the build information.
func fromBuild(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
