package modification

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every printer shows instead of a credential.
const redacted = "[redacted]"

// secret holds a credential in memory. Every fmt verb, slog and encoding/json
// print it as "[redacted]".
type secret struct{ v string }

func (secret) String() string               { return redacted }
func (secret) GoString() string             { return redacted }
func (secret) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redacted) }
func (secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s secret) describe() string {
	if s.v == "" {
		return "absent"
	}
	return "present"
}
