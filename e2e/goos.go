package e2e

import "runtime"

var runtimeGOOS = runtime.GOOS
