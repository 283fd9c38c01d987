//go:build !unix

package stages

const openFlags = 0
