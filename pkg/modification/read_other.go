//go:build !unix

package modification

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// readFile reads at most limit bytes of a file into buf's storage (reused
// when it has room). Without follow a symbolic link is refused.
func readFile(p string, limit int64, buf []byte, follow bool) ([]byte, error) {
	if !follow {
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: p, Err: errNotRegular}
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	buf = grow(buf[:0])
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, tooLarge(limit)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		buf = grow(buf)
	}
}
