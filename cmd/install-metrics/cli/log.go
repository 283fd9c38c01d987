package cli

import (
	"bytes"
	"io"

	"github.com/sirupsen/logrus"
)

// lineFormatter prints "install-metrics: warning: message": one line a
// message, no timestamp (the installer's own lines carry the time), readable
// in a CI log.
type lineFormatter struct{}

func (lineFormatter) Format(e *logrus.Entry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("install-metrics: ")
	if e.Level != logrus.InfoLevel {
		b.WriteString(e.Level.String())
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// logger returns a logger for our own messages on stderr: warnings, and with
// debug also the decisions.
func (e *Env) logger(debug bool) *logrus.Logger {
	return newLogger(e.Stderr, debug)
}

func newLogger(w io.Writer, debug bool) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	l.SetFormatter(lineFormatter{})
	l.SetLevel(logrus.WarnLevel)
	if debug {
		l.SetLevel(logrus.DebugLevel)
	}
	return l
}
